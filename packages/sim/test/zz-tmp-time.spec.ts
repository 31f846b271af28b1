import { it } from 'vitest';
import { drawScenario, simulate, buildResult, valuesEverValid, MemoVerifier } from '../src/index.js';
import { loadScenario } from './support.js';
it('find', async () => {
  const verifier = new MemoVerifier();
  for (const f of ['explore-lock-race.yaml']) {
    const base = loadScenario(f);
    for (let seed = 1; seed <= 60; seed++) {
      const d = drawScenario(base, seed);
      const t0 = performance.now();
      const run = await simulate(d, { seed, verifier });
      const r = buildResult(run);
      const both = run.settlements.filter((s) => valuesEverValid(run, s).size === 2).length;
      const bad = [...r.invariants.filter((i) => i.ok === false).map((i) => i.name + ':' + i.detail), ...r.expectations.filter((e) => !e.ok).map((e) => e.detail)].join(' | ');
      console.log('FIND', f, seed, r.ok, 'both', both, (performance.now() - t0).toFixed(0) + 'ms', r.settlements.map((s) => `${s.decision}@${s.decidedAtMs} r${s.round} ${s.asset}/${s.payment}`).join(' '), 'evidence', r.evidence.length, '|', d.faults.map((x) => x.kind === 'leg' ? `${x.fail}:${x.leg}:${x.afterMs}` : x.kind === 'byzantine' ? `byz:n${x.node}:${x.behaviour}` : x.kind).join(' '), bad);
    }
  }
}, 900_000);
