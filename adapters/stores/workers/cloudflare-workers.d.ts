// Types for the workerd built-in module (only what books.ts uses); esbuild leaves the import to workerd.
declare module "cloudflare:workers" {
  export abstract class DurableObject<Env = unknown> {
    protected ctx: import("./bindings").DurableObjectState;
    protected env: Env;
    constructor(ctx: import("./bindings").DurableObjectState, env: Env);
  }
}
