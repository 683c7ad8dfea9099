import type { RunResult } from './run.js';
export function renderSvg(_res: RunResult): string {
  return '<svg xmlns="http://www.w3.org/2000/svg"/>';
}
