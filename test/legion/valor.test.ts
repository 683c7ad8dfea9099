import { describe, expect, it } from 'vitest';
import { Node, params, sendsOf } from './helpers.js';

describe('the core owns the valor: base less the checks penalty', () => {
  it('announces base − penalty, never below 0, and the view shows both', () => {
    const n = new Node(params({ valor: 100n }));
    n.start();
    expect(sendsOf(n.command({ type: 'set-penalty', penalty: 30n }))[0]?.valor).toBe(70n);
    expect(n.view()).toMatchObject({ baseValor: 100n, valor: 70n });
    // a new base keeps the penalty
    expect(sendsOf(n.command({ type: 'set-valor', valor: 200n }))[0]?.valor).toBe(170n);
    n.command({ type: 'set-penalty', penalty: 500n });
    expect(n.view()).toMatchObject({ baseValor: 200n, valor: 0n });
    n.command({ type: 'set-penalty', penalty: 0n });
    expect(n.view().valor).toBe(200n);
  });

  it('a reload sets the base and keeps the penalty', () => {
    const n = new Node(params({ valor: 100n }));
    n.start();
    n.command({ type: 'set-penalty', penalty: 10n });
    n.command({ type: 'reconfigure', params: { valor: 50n } });
    expect(n.view()).toMatchObject({ baseValor: 50n, valor: 40n });
  });
});
