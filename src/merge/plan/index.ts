export { plan } from "./plan.ts";
export type { Hazard, Layer, Plan, PlanContext, Statement } from "./types.ts";
