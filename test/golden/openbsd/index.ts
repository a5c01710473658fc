import type { Case } from '../harness.ts'
import file from './file.ts'
import line from './line.ts'
import sysctl from './sysctl.ts'
import pkg from './pkg.ts'
import service from './service.ts'
import iface from './iface.ts'
import { commonCases } from '../common.ts'

export default [...file, ...line, ...sysctl, ...pkg, ...service, ...iface, ...commonCases('openbsd')] as Case[]
