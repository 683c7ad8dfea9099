import { VipCluster } from '../../test/netns/helpers.js';
const c = new VipCluster(1, 'lgx');
try {
  await c.start();
  const t0 = Date.now();
  await c.startLegion([300, 200, 100], 'h1');
  console.log('up in', Date.now() - t0, await c.holders());
  for (const l of c.daemon('h1').lines.slice(0, 40)) console.log(JSON.stringify(l));
  console.log(c.notes());
  console.log(c.answers().slice(-3));
} finally {
  await c.close();
}
