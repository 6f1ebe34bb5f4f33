/**
 * @file The bridge: one named method per Api method, each a one-liner over `ipcRenderer.invoke`,
 * plus `onEvent`. Nothing else crosses; page code never sees `ipcRenderer` or an IPC event.
 * Calls resolve to the `Result` envelope; the renderer's api client unwraps it.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { API_METHODS, type ApiEventMessage } from '../shared/api';
import type { BoxtuneBridge } from './index.d';

const methods = Object.fromEntries(
  API_METHODS.map((name) => [name, (args: unknown) => ipcRenderer.invoke(`api:${name}`, args)]),
);

const bridge = {
  ...methods,
  onEvent(cb: (msg: ApiEventMessage) => void): () => void {
    // Strip the IpcRendererEvent: it carries `sender`, i.e. ipcRenderer itself.
    const listener = (_event: IpcRendererEvent, msg: ApiEventMessage): void => cb(msg);
    ipcRenderer.on('api:event', listener);
    return () => void ipcRenderer.off('api:event', listener);
  },
} as BoxtuneBridge;

contextBridge.exposeInMainWorld('boxtune', bridge);
