/**
 * SQL: creates bough's event triggers `name` (ON ddl_command_end) and `name`'s drop twin
 * (ON sql_drop) on `fn` unless they exist: CREATE EVENT TRIGGER has no IF NOT EXISTS.
 * Names are constants of the caller, never data.
 */
export const ddlEventTriggersSql = (o: { end: string; drop: string; fn: string }) => `DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_event_trigger WHERE evtname = '${o.end}') THEN
    CREATE EVENT TRIGGER ${o.end} ON ddl_command_end
      EXECUTE FUNCTION ${o.fn}();
  END IF;
  IF NOT EXISTS (SELECT FROM pg_event_trigger WHERE evtname = '${o.drop}') THEN
    CREATE EVENT TRIGGER ${o.drop} ON sql_drop
      EXECUTE FUNCTION ${o.fn}();
  END IF;
END
$$;`;
