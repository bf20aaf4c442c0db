import type { ApiApp } from '../env.js';

export function registerTaskRoutes(_v1: ApiApp): void {}
