// A runbook's steps and handlers are asked for separately, and both must come from the same plan:
// one per host per run, made once. A plan that fails (a missing secret, say) is not remembered,
// so that asking again tries again.
export function onePlanPerHost<C extends { host: object }, P>(make: (ctx: C) => Promise<P>): (ctx: C) => Promise<P> {
  const plans = new WeakMap<object, Promise<P>>()
  return (ctx) => {
    let p = plans.get(ctx.host)
    if (!p) {
      plans.set(ctx.host, (p = make(ctx)))
      p.catch(() => plans.delete(ctx.host))
    }
    return p
  }
}
