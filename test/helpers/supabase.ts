import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import WebSocket from "ws";

// supabase-js builds its realtime client at construction and, on Node < 22, needs a
// WebSocket class for it. Tests that open no realtime channel get a transport that
// refuses to connect; realtime tests ask for the `ws` package's.
class NoWebSocket {
  constructor() {
    throw new Error("realtime is not available in these tests (Node 20 has no WebSocket)");
  }
}

/** The real supabase-js client for a branch URL and key, without session persistence. */
export function supabase(url: string, key: string, o: { realtime?: boolean } = {}): SupabaseClient {
  return createClient(url, key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: (o.realtime ? WebSocket : NoWebSocket) as never },
  });
}
