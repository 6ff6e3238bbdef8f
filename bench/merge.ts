export async function benchMerge(): Promise<unknown> {
  return null;
}
