/**
 * @file Which half of the Label tab shows, the image browser or the editor, and what the editor
 * walks through. Opening an image from the browser freezes the browser's filter as the editor's
 * navigation order (`images.neighbors({ id, filter })` for D / A); going back leaves the browser's
 * filter as it was and brings the last image shown into view.
 *
 * @example
 * navigation.open(42);           // the browser, on click or Enter
 * navigation.open(next);         // the editor, on D (same filter)
 * navigation.back();             // the editor's way out
 */
import type { ImageFilter } from '../../../shared/types';
import { onEvent } from '../lib/api';
import { images } from './images.svelte';

export type LabelTabView = 'browser' | 'label';

export class NavigationStore {
  view = $state<LabelTabView>('browser');
  /** The image the editor shows (and the browser brings into view on return). */
  imageId = $state<number | null>(null);
  /** The order the editor navigates in: the browser's filter when the image was opened. */
  filter = $state.raw<ImageFilter>({});

  /** Another project (or none): back to its browser, nothing selected. */
  connect(): () => void {
    return onEvent('project', (e) => {
      if (e.reason !== 'changed') this.reset();
    });
  }

  /** Shows `imageId` in the editor. From the browser, its current filter becomes the navigation order. */
  open = (imageId: number): void => {
    if (this.view === 'browser') this.filter = $state.snapshot(images.filter);
    this.imageId = imageId;
    this.view = 'label';
  };

  /** Back to the browser, with its filter untouched and `imageId` kept so it can scroll to it. */
  back = (): void => {
    this.view = 'browser';
  };

  reset(): void {
    this.view = 'browser';
    this.imageId = null;
    this.filter = {};
  }
}

export const navigation = new NavigationStore();
