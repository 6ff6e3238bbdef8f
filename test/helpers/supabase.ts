import { createClient, type SupabaseClient } from "@supabase/supabase-js";

// supabase-js builds its realtime client at construction and, on Node < 22, needs a
// WebSocket class for it. These tests never open a realtime channel, so the transport
// refuses to connect instead of pulling in the `ws` package.
class NoWebSocket {
  constructor() {
    throw new Error("realtime is not available in these tests (Node 20 has no WebSocket)");
  }
}

/** The real supabase-js client for a branch URL and key, without session persistence. */
export function supabase(url: string, key: string): SupabaseClient {
  return createClient(url, key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: NoWebSocket as never },
  });
}
