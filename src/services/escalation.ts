import type { AppContext } from '../context.js';

/** Marks open tasks whose first contact attempt is overdue. Returns how many were newly marked. */
export async function escalateOverdueTasks(_ctx: AppContext): Promise<number> {
  return 0;
}
