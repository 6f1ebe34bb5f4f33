/**
 * @file The Label view's keymap: one table that both decides what a key press does
 * (`matchShortcut`) and feeds the ? overlay (`shortcutHelp`), so the two cannot drift apart.
 * Pure (no DOM types): the decision is unit-tested in Node with plain objects.
 *
 * Bindings follow what labelers already know (see research/annotation-peers.md §3): D/A next and
 * previous image (LabelImg, X-AnyLabeling), W/R draw (LabelImg / X-AnyLabeling, Label Studio),
 * digits pick the class (VoTT, Label Studio), Ctrl+Z / Ctrl+Shift+Z / Ctrl+Y (CVAT), Ctrl+D
 * duplicate (LabelImg, labelme), Ctrl+B copies the previous image's boxes (CVAT's "propagate").
 */

export type Action =
  | 'next'
  | 'prev'
  | 'nextUnlabeled'
  | 'toggleReviewed'
  | 'back'
  | 'drawMode'
  | 'cancel'
  | 'delete'
  | 'nudge'
  | 'cycleNext'
  | 'cyclePrev'
  | 'selectAll'
  | 'setClass'
  | 'copy'
  | 'paste'
  | 'duplicate'
  | 'copyPrevious'
  | 'undo'
  | 'redo'
  | 'fit'
  | 'zoom100'
  | 'zoomIn'
  | 'zoomOut'
  | 'toggleBoxes'
  | 'togglePredictions'
  | 'panHold'
  | 'help';

export type Command =
  | { action: 'setClass'; index: number }
  | { action: 'nudge'; dx: number; dy: number }
  | { action: Exclude<Action, 'setClass' | 'nudge'> };

/** What the decision needs of a KeyboardEvent (a KeyboardEvent satisfies it). */
export interface KeyInput {
  key: string;
  code: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  target: TargetInput | null;
}

/** What the decision needs of the focused element. */
export interface TargetInput {
  tagName?: string;
  type?: string;
  isContentEditable?: boolean;
}

export type HelpGroup = 'Images' | 'Boxes' | 'Classes' | 'Clipboard' | 'View' | 'History';

interface Binding {
  /** e.g. 'Ctrl+Shift+Z', 'Shift+D', 'Delete', '?'. 'Ctrl' means Ctrl or Cmd. */
  combos: string[];
  command: Command;
  /** Shown in the ? overlay; bindings folded into another entry's help have none. */
  help?: { group: HelpGroup; text: string; keys?: string };
}

const nudge = (dx: number, dy: number): Command => ({ action: 'nudge', dx, dy });

const BINDINGS: Binding[] = [
  { combos: ['D'], command: { action: 'next' }, help: { group: 'Images', text: 'Next image (in the browser filter’s order)' } },
  { combos: ['A'], command: { action: 'prev' }, help: { group: 'Images', text: 'Previous image' } },
  { combos: ['Shift+D', 'U'], command: { action: 'nextUnlabeled' }, help: { group: 'Images', text: 'Next unlabeled image' } },
  { combos: ['V', 'Ctrl+Enter'], command: { action: 'toggleReviewed' }, help: { group: 'Images', text: 'Mark the image reviewed (again: back to labeled)' } },
  { combos: ['B'], command: { action: 'back' }, help: { group: 'Images', text: 'Back to the image browser (also Esc when nothing is selected)' } },

  { combos: ['W', 'R'], command: { action: 'drawMode' }, help: { group: 'Boxes', text: 'Draw mode on / off: crosshair, drag anywhere to draw (also over boxes)' } },
  { combos: ['Escape'], command: { action: 'cancel' }, help: { group: 'Boxes', text: 'Cancel the drawing, deselect, leave draw mode, then back' } },
  { combos: ['Delete', 'Backspace'], command: { action: 'delete' }, help: { group: 'Boxes', text: 'Delete the selected boxes' } },
  { combos: ['ArrowLeft'], command: nudge(-1, 0), help: { group: 'Boxes', text: 'Nudge the selected boxes 1 px', keys: 'Arrows' } },
  { combos: ['ArrowRight'], command: nudge(1, 0) },
  { combos: ['ArrowUp'], command: nudge(0, -1) },
  { combos: ['ArrowDown'], command: nudge(0, 1) },
  { combos: ['Shift+ArrowLeft'], command: nudge(-10, 0), help: { group: 'Boxes', text: 'Nudge 10 px', keys: 'Shift+Arrows' } },
  { combos: ['Shift+ArrowRight'], command: nudge(10, 0) },
  { combos: ['Shift+ArrowUp'], command: nudge(0, -10) },
  { combos: ['Shift+ArrowDown'], command: nudge(0, 10) },
  { combos: ['Tab'], command: { action: 'cycleNext' }, help: { group: 'Boxes', text: 'Select the next box' } },
  { combos: ['Shift+Tab'], command: { action: 'cyclePrev' }, help: { group: 'Boxes', text: 'Select the previous box' } },
  { combos: ['Ctrl+A'], command: { action: 'selectAll' }, help: { group: 'Boxes', text: 'Select every box' } },
  { combos: ['H'], command: { action: 'toggleBoxes' }, help: { group: 'Boxes', text: 'Hide / show all boxes (a look at the bare image)' } },
  { combos: ['P'], command: { action: 'togglePredictions' }, help: { group: 'Boxes', text: 'Show / hide the model’s predictions (dashed, with scores)' } },

  ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 0].map(
    (d, i): Binding => ({
      combos: [String(d)],
      command: { action: 'setClass', index: i },
      ...(i === 0 ? { help: { group: 'Classes' as const, text: 'Class 1…10 of the list for the selected boxes, or for the next box drawn', keys: '1 … 9, 0' } } : {}),
    }),
  ),

  { combos: ['Ctrl+C'], command: { action: 'copy' }, help: { group: 'Clipboard', text: 'Copy the selected boxes' } },
  { combos: ['Ctrl+V'], command: { action: 'paste' }, help: { group: 'Clipboard', text: 'Paste them (same place; works on another image)' } },
  { combos: ['Ctrl+D'], command: { action: 'duplicate' }, help: { group: 'Clipboard', text: 'Duplicate the selected boxes, offset a little' } },
  { combos: ['Ctrl+B', 'Ctrl+Shift+V'], command: { action: 'copyPrevious' }, help: { group: 'Clipboard', text: 'Copy all boxes of the previous image onto this one' } },

  { combos: ['Ctrl+0'], command: { action: 'fit' }, help: { group: 'View', text: 'Fit the image' } },
  { combos: ['Ctrl+1'], command: { action: 'zoom100' }, help: { group: 'View', text: 'Zoom to 100 %' } },
  { combos: ['=', 'Plus', 'Ctrl+=', 'Ctrl+Plus'], command: { action: 'zoomIn' }, help: { group: 'View', text: 'Zoom in (or the wheel, around the cursor)', keys: '+' } },
  { combos: ['-', 'Ctrl+-'], command: { action: 'zoomOut' }, help: { group: 'View', text: 'Zoom out', keys: '−' } },
  { combos: ['Space'], command: { action: 'panHold' }, help: { group: 'View', text: 'Hold and drag to pan (or drag with the middle button)', keys: 'Space + drag' } },
  { combos: ['?', 'F1'], command: { action: 'help' }, help: { group: 'View', text: 'This list of shortcuts' } },

  { combos: ['Ctrl+Z'], command: { action: 'undo' }, help: { group: 'History', text: 'Undo (per image; kept across restarts)' } },
  { combos: ['Ctrl+Shift+Z', 'Ctrl+Y'], command: { action: 'redo' }, help: { group: 'History', text: 'Redo' } },
];

interface Combo {
  ctrl: boolean;
  shift: boolean;
  alt: boolean;
  key: string;
}

const NAMED: Record<string, string> = { Space: ' ', Plus: '+' };

function parseCombo(combo: string): Combo {
  const parts = combo.split('+');
  const key = parts.pop() ?? '';
  return { ctrl: parts.includes('Ctrl'), shift: parts.includes('Shift'), alt: parts.includes('Alt'), key: NAMED[key] ?? key };
}

const PARSED = BINDINGS.map((b) => ({ combos: b.combos.map(parseCombo), command: b.command }));

/**
 * True when the focused element takes typed text: a text-like input, a textarea, a select, or
 * anything contenteditable. Shortcuts never fire there.
 */
export function isTextInput(target: TargetInput | null | undefined): boolean {
  if (!target) return false;
  if (target.isContentEditable) return true;
  const tag = (target.tagName ?? '').toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag !== 'INPUT') return false;
  const type = (target.type ?? 'text').toLowerCase();
  return !['checkbox', 'radio', 'button', 'submit', 'reset', 'color', 'range', 'file', 'image'].includes(type);
}

/** The key a combo compares with: digits by their physical key (AZERTY), letters by the character, falling back to the physical key on non-Latin layouts. */
function keyMatches(e: KeyInput, key: string): boolean {
  if (/^[0-9]$/.test(key)) return e.code === `Digit${key}` || e.code === `Numpad${key}`;
  if (/^[a-z]$/i.test(key)) {
    const k = e.key.length === 1 && /[a-z]/i.test(e.key) ? e.key : e.code.startsWith('Key') ? e.code.slice(3) : e.key;
    return k.toLowerCase() === key.toLowerCase();
  }
  return e.key === key;
}

/** Characters typed with Shift on most layouts ('?', '+'): Shift is part of the key, not a modifier. */
const isSymbol = (key: string): boolean => key.length === 1 && !/[a-z0-9 ]/i.test(key);

/**
 * What a key press means in the Label view, or null (not ours, or the user is typing).
 *
 * @example matchShortcut({ key: '3', code: 'Digit3', ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, target: null })
 * // { action: 'setClass', index: 2 }
 */
export function matchShortcut(e: KeyInput): Command | null {
  if (isTextInput(e.target)) return null;
  const ctrl = e.ctrlKey || e.metaKey;
  for (const b of PARSED) {
    for (const c of b.combos) {
      if (c.ctrl !== ctrl || c.alt !== e.altKey) continue;
      if (!isSymbol(c.key) && c.shift !== e.shiftKey) continue;
      if (keyMatches(e, c.key)) return b.command;
    }
  }
  return null;
}

export interface HelpEntry {
  keys: string;
  text: string;
}

/** The ? overlay's content: every documented binding, by group, in table order. */
export function shortcutHelp(): { group: HelpGroup; entries: HelpEntry[] }[] {
  const groups = new Map<HelpGroup, HelpEntry[]>();
  for (const b of BINDINGS) {
    if (!b.help) continue;
    const entries = groups.get(b.help.group) ?? [];
    entries.push({ keys: b.help.keys ?? b.combos.join(' / '), text: b.help.text });
    groups.set(b.help.group, entries);
  }
  return [...groups].map(([group, entries]) => ({ group, entries }));
}

/** Every action the table binds (the overlay must list each). */
export function boundActions(): Set<Action> {
  return new Set(BINDINGS.map((b) => b.command.action));
}
