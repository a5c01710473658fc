// `ferry import ansible-inventory`: an Ansible inventory as a ferry inventory file.
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Command } from '@commander-js/extra-typings'
import { importAnsibleInventory } from '../inventory/ansible.ts'
import { displayPath } from '../inventory/errors.ts'
import { inventoryPath } from '../inventory/index.ts'
import { UsageError } from './exit.ts'

export function importCommand() {
  const command = new Command('import').description('Convert inventories from other tools into ferry inventories.')
  command.addCommand(
    new Command('ansible-inventory')
      .description(
        'Convert a static Ansible inventory (INI or YAML, with the group_vars/ and host_vars/ beside it) into a ferry inventory. Contacts no host.',
      )
      .argument('<file>', 'the Ansible inventory file, e.g. hosts.ini or inventory/hosts.yml')
      .option('-o, --out <name|path>', 'write the inventory here (a bare name is inventory/NAME.yaml), not to stdout')
      .option('--force', 'overwrite --out if it exists')
      // main() sets exitOverride on top-level commands only; without this a missing <file> would
      // process.exit(1) instead of reaching main's exit code 64.
      .exitOverride()
      .addHelpText(
        'after',
        `
Each host gets the same groups and, once ferry merges them, the same vars as Ansible gives it:
  - groups: every group the host is in, through children too, in the order Ansible merges them
    (depth, ansible_group_priority, name). Where Ansible's precedence cannot be written as ferry's
    one merge (group_vars/ files are read after every [group:vars]), the host gets Ansible's value
    in its own vars, with a comment.
  - ansible_host -> address, ansible_port -> port, ansible_user -> user,
    ansible_ssh_private_key_file -> identity, ansible_connection: local -> connection: local,
    ansible_become and ansible_become_method (sudo, doas) -> become,
    ansible_become_password -> become_password (a secret), ansible_system or ansible_os_family ->
    os; all:vars -> defaults. Each names its Ansible source in a comment.
  - Other ansible_* vars (ansible_python_interpreter, ...) are dropped, each named in a comment.
  - Vault-encrypted values (!vault, or files that start with $ANSIBLE_VAULT;) are never decrypted
    nor printed: each becomes a secret read from an environment variable, FERRY_SECRET_NAME, for
    you to fill in.
Refused: dynamic inventories (executable files, scripts, inventory plugin configs such as
"plugin: aws_ec2"), become methods other than sudo and doas, connections other than ssh and local.
Bad input is reported as FILE:LINE:COL: reason, with exit code 64.

Examples:
  ferry import ansible-inventory hosts.ini                 print the ferry inventory
  ferry import ansible-inventory inventory/prod/hosts.yml --out prod
  ferry inventory -i prod                                  check what it became`,
      )
      .action((file, opts) => {
        const text = importAnsibleInventory(file)
        if (!opts.out) {
          process.stdout.write(text)
          return
        }
        const out = inventoryPath(opts.out)
        mkdirSync(path.dirname(out), { recursive: true })
        try {
          // 'wx' refuses an existing file in the same call that creates it: nothing can come between.
          writeFileSync(out, text, { flag: opts.force ? 'w' : 'wx' })
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
          throw new UsageError(`${displayPath(out)} exists; --force overwrites it`)
        }
        process.stderr.write(
          `ferry: wrote ${displayPath(out)}; check it with: ferry inventory -i ${displayPath(out)}\n`,
        )
      }),
  )
  return command
}
