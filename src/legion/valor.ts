/**
 * The one owner of a node's valor: the core keeps the base valor (config, `legionctl valor set`)
 * and the penalty of failing valor checks, and announces base − penalty (never below 0).
 */
export interface ValorParts {
  readonly baseValor: bigint;
  readonly valorPenalty: bigint;
}

export function effectiveValor(v: ValorParts): bigint {
  return v.baseValor > v.valorPenalty ? v.baseValor - v.valorPenalty : 0n;
}
