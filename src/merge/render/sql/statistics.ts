import type { StatisticsObject } from "../../catalog/snapshot.ts";
import { bare, qname } from "./refs.ts";
import { type Converter, step } from "./step.ts";

const statisticsRef = (s: StatisticsObject) => qname(s.schema, s.name);

// -1 is the default on every version (PG 17 also reads it as DEFAULT).
const setTarget = (s: StatisticsObject) =>
  step(`ALTER STATISTICS ${statisticsRef(s)} SET STATISTICS ${s.statisticsTarget ?? -1};`);

/** Extended statistics only inform the planner: their statements take no lock readers or writers notice. */
export const statisticsSql: Converter<StatisticsObject> = {
  create: (s) => {
    const out = [step(`${bare(s.definition)};`)];
    if (s.statisticsTarget !== undefined) out.push({ ...setTarget(s), followUp: true });
    return out;
  },
  drop: (s) => [step(`DROP STATISTICS ${statisticsRef(s)};`)],
  alter: (_before, after) => [setTarget(after)],
  // Kinds, columns and expressions cannot be altered.
  impact: (before, after) => (before.definition !== after.definition ? "recreate" : "in-place"),
};
