import { chromium } from 'playwright-core';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
for (const n of [1, 2, 3]) {
await page.setContent(`<div style="width:1155px;height:790px;overflow:hidden;position:relative">${Array.from({length:n},()=>`<canvas width=1155 height=790 style="position:absolute;left:0;top:0"></canvas>`).join('')}</div>`);
for (const hidden of [false, true]) {
const r = await page.evaluate((hidden) => new Promise((resolve) => {
  const cs = [...document.querySelectorAll('canvas')];
  for (const c of cs) { const x = c.getContext('2d'); x.fillStyle = 'rgba(200,100,50,0.5)'; x.fillRect(10,10,500,500); }
  if (hidden) for (const c of cs.slice(1)) c.style.display = 'none';
  const ctx = cs[0].getContext('2d');
  const out = []; const ch = new MessageChannel(); let t0 = 0; let n = 0;
  ch.port1.onmessage = () => { out.push(performance.now() - t0); if (++n < 120) requestAnimationFrame(tick); else resolve(out.sort((a,b)=>a-b)); };
  const tick = (t) => { t0 = t; ctx.clearRect(0,0,1155,790); ctx.fillRect(n % 100, 10, 300, 300); ch.port2.postMessage(0); };
  requestAnimationFrame(tick);
}), hidden);
console.log(n, 'canvases, one changing', hidden ? '(others hidden)' : '', 'p50', r[60].toFixed(1), 'p95', r[114].toFixed(1));
}
}
await browser.close();
