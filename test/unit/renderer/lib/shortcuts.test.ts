import { describe, expect, it } from 'vitest';
import { boundActions, isTextInput, matchShortcut, shortcutHelp, type KeyInput } from '../../../../src/renderer/src/lib/shortcuts';

/** A key press as a browser would report it on a US layout, nothing focused. */
function key(k: string, mods: Partial<KeyInput> = {}): KeyInput {
  const code = /^[0-9]$/.test(k) ? `Digit${k}` : /^[a-z]$/i.test(k) ? `Key${k.toUpperCase()}` : k === ' ' ? 'Space' : k;
  return { key: k, code, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, target: null, ...mods };
}

describe('matchShortcut', () => {
  it('maps digits 1..9, 0 to the first ten classes', () => {
    expect(matchShortcut(key('1'))).toEqual({ action: 'setClass', index: 0 });
    expect(matchShortcut(key('9'))).toEqual({ action: 'setClass', index: 8 });
    expect(matchShortcut(key('0'))).toEqual({ action: 'setClass', index: 9 });
    expect(matchShortcut({ ...key('1'), code: 'Numpad1' })).toEqual({ action: 'setClass', index: 0 });
    // AZERTY: the digit row types '&' without Shift; the physical key decides
    expect(matchShortcut({ ...key('&'), code: 'Digit1' })).toEqual({ action: 'setClass', index: 0 });
  });

  it('maps the editing keys', () => {
    expect(matchShortcut(key('d'))).toEqual({ action: 'next' });
    expect(matchShortcut(key('a'))).toEqual({ action: 'prev' });
    expect(matchShortcut(key('D', { shiftKey: true }))).toEqual({ action: 'nextUnlabeled' });
    expect(matchShortcut(key('w'))).toEqual({ action: 'drawMode' });
    expect(matchShortcut(key('r'))).toEqual({ action: 'drawMode' });
    expect(matchShortcut(key('Delete'))).toEqual({ action: 'delete' });
    expect(matchShortcut(key('Backspace'))).toEqual({ action: 'delete' });
    expect(matchShortcut(key('ArrowLeft'))).toEqual({ action: 'nudge', dx: -1, dy: 0 });
    expect(matchShortcut(key('ArrowDown', { shiftKey: true }))).toEqual({ action: 'nudge', dx: 0, dy: 10 });
    expect(matchShortcut(key('Tab'))).toEqual({ action: 'cycleNext' });
    expect(matchShortcut(key('Tab', { shiftKey: true }))).toEqual({ action: 'cyclePrev' });
    expect(matchShortcut(key('Escape'))).toEqual({ action: 'cancel' });
    expect(matchShortcut(key(' '))).toEqual({ action: 'panHold' });
    expect(matchShortcut(key('h'))).toEqual({ action: 'toggleBoxes' });
    expect(matchShortcut(key('p'))).toEqual({ action: 'togglePredictions' });
    expect(matchShortcut(key('p', { ctrlKey: true }))).toBeNull();
  });

  it('tells Ctrl combinations apart (Cmd counts as Ctrl)', () => {
    expect(matchShortcut(key('z', { ctrlKey: true }))).toEqual({ action: 'undo' });
    expect(matchShortcut(key('Z', { ctrlKey: true, shiftKey: true }))).toEqual({ action: 'redo' });
    expect(matchShortcut(key('y', { ctrlKey: true }))).toEqual({ action: 'redo' });
    expect(matchShortcut(key('z', { metaKey: true }))).toEqual({ action: 'undo' });
    expect(matchShortcut(key('c', { ctrlKey: true }))).toEqual({ action: 'copy' });
    expect(matchShortcut(key('v', { ctrlKey: true }))).toEqual({ action: 'paste' });
    expect(matchShortcut(key('V', { ctrlKey: true, shiftKey: true }))).toEqual({ action: 'copyPrevious' });
    expect(matchShortcut(key('b', { ctrlKey: true }))).toEqual({ action: 'copyPrevious' });
    expect(matchShortcut(key('d', { ctrlKey: true }))).toEqual({ action: 'duplicate' });
    expect(matchShortcut(key('0', { ctrlKey: true }))).toEqual({ action: 'fit' });
    expect(matchShortcut(key('1', { ctrlKey: true }))).toEqual({ action: 'zoom100' });
    expect(matchShortcut(key('a', { ctrlKey: true }))).toEqual({ action: 'selectAll' });
    // a plain letter with Ctrl that is not bound is not the plain letter's action
    expect(matchShortcut(key('w', { ctrlKey: true }))).toBeNull();
    expect(matchShortcut(key('d', { altKey: true }))).toBeNull();
  });

  it('takes symbols typed with Shift as they are', () => {
    expect(matchShortcut(key('?', { shiftKey: true }))).toEqual({ action: 'help' });
    expect(matchShortcut(key('+', { shiftKey: true }))).toEqual({ action: 'zoomIn' });
    expect(matchShortcut(key('-'))).toEqual({ action: 'zoomOut' });
  });

  it('uses the physical key for letters on a non-Latin layout', () => {
    expect(matchShortcut({ ...key('в'), code: 'KeyD' })).toEqual({ action: 'next' });
  });

  it('never fires while the user types in a text field', () => {
    const fields = [
      { tagName: 'INPUT', type: 'text' },
      { tagName: 'INPUT', type: 'search' },
      { tagName: 'INPUT', type: 'number' },
      { tagName: 'INPUT' },
      { tagName: 'TEXTAREA' },
      { tagName: 'SELECT' },
      { tagName: 'DIV', isContentEditable: true },
    ];
    for (const target of fields) {
      expect(isTextInput(target)).toBe(true);
      for (const k of [key('d'), key('1'), key('Delete'), key('z', { ctrlKey: true }), key('Escape'), key(' ')]) {
        expect(matchShortcut({ ...k, target })).toBeNull();
      }
    }
  });

  it('still fires when a button, checkbox or colour swatch has the focus', () => {
    for (const target of [{ tagName: 'BUTTON' }, { tagName: 'INPUT', type: 'checkbox' }, { tagName: 'INPUT', type: 'color' }, { tagName: 'CANVAS' }]) {
      expect(isTextInput(target)).toBe(false);
      expect(matchShortcut({ ...key('d'), target })).toEqual({ action: 'next' });
    }
  });
});

describe('shortcutHelp', () => {
  it('lists every bound action, each once with keys and a description', () => {
    const help = shortcutHelp();
    const texts = help.flatMap((g) => g.entries);
    expect(texts.every((e) => e.keys.length > 0 && e.text.length > 0)).toBe(true);
    // each action appears in some entry: check by firing the entry's first key
    const seen = new Set<string>();
    for (const g of help) for (const e of g.entries) seen.add(e.text);
    expect(seen.size).toBe(texts.length);
    expect(boundActions().size).toBeGreaterThanOrEqual(25);
    expect(help.map((g) => g.group)).toEqual(['Images', 'Boxes', 'Classes', 'Clipboard', 'View', 'History']);
    expect(texts.find((e) => e.keys === 'Ctrl+B / Ctrl+Shift+V')).toBeDefined();
    expect(texts.find((e) => e.keys === 'P')?.text).toMatch(/predictions/);
  });
});
