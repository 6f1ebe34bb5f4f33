/**
 * Import probing reads the header only, and refuses what no decoder here should be handed: a pixel
 * bomb (a tiny PNG declaring 100000x100000) and SVG content under an image name.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { MAX_IMAGE_SIDE } from '../../../src/main/images/pixel-limit';
import { probeImage } from '../../../src/main/images/probe';
import { pixelBombPng } from '../../helpers/pixel-bomb';
import { tmpDir } from '../../helpers/tmp';

describe('probeImage', () => {
  it('reads the size and hash of a good image', async () => {
    const file = path.join(tmpDir(), 'a.png');
    fs.writeFileSync(file, await sharp({ create: { width: 40, height: 30, channels: 3, background: '#123456' } }).png().toBuffer());
    expect(probeImage(file)).toEqual({ ok: true, probe: { hash: expect.stringMatching(/^[0-9a-f]{40}$/), width: 40, height: 30 } });
  });

  it('refuses a header declaring more pixels than the limit, saying the size and the limit', async () => {
    const file = path.join(tmpDir(), 'bomb.png');
    fs.writeFileSync(file, await pixelBombPng(100_000, 100_000));
    expect(probeImage(file)).toEqual({
      ok: false,
      reason: `declared 100000x100000 pixels (10000 Mpx), over the limit of 1600 Mpx (${MAX_IMAGE_SIDE}x${MAX_IMAGE_SIDE})`,
    });
    // At the limit is fine (the header is all that is read).
    fs.writeFileSync(file, await pixelBombPng(MAX_IMAGE_SIDE, MAX_IMAGE_SIDE));
    expect(probeImage(file)).toMatchObject({ ok: true, probe: { width: MAX_IMAGE_SIDE, height: MAX_IMAGE_SIDE } });
  });

  it('refuses SVG content under an image name', () => {
    const file = path.join(tmpDir(), 'looks.jpg');
    fs.writeFileSync(file, '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="80"><image href="/etc/passwd"/></svg>');
    expect(probeImage(file)).toEqual({ ok: false, reason: expect.stringMatching(/svg.*not a raster image/) });
  });
});
