/**
 * @file Electron main: the window, its menu, IPC and the image protocol. The only file that
 * imports electron; everything it calls is the plain-Node service that browser mode uses too.
 */
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  net,
  protocol,
  session,
  type IpcMainInvokeEvent,
} from 'electron';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { API_METHODS, type ApiEventMessage } from '../shared/api';
import { toErrorInfo } from '../shared/errors';
import { createDispatcher } from './app/dispatch';
import { BoxtuneService } from './app/service';
import { parseImageAsset, parseImageId } from './images/image-assets';
import { assetCacheControl, assetErrorStatus } from './server/asset-http';
import { contentSecurityPolicy } from './server/csp';

const here = path.dirname(fileURLToPath(import.meta.url));
const IMAGE_SCHEME = 'boxtune-image';

// Privileges must be registered before the app is ready. `standard` gives the URLs a host part
// (boxtune-image://<id>), `stream` lets large images flow without buffering.
protocol.registerSchemesAsPrivileged([
  { scheme: IMAGE_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
]);

const service = new BoxtuneService({ shell: 'electron', dataDir: app.getPath('userData') });
const dispatch = createDispatcher(service);
let win: BrowserWindow | null = null;

/** electron-vite's dev server in development, the built index.html otherwise. */
function rendererUrl(): string {
  return process.env['ELECTRON_RENDERER_URL'] ?? pathToFileURL(path.join(here, '../renderer/index.html')).href;
}

/** Security checklist item 17: only our window's top frame, showing our page, may call the Api. */
function isOurFrame(event: IpcMainInvokeEvent): boolean {
  if (!win || event.sender !== win.webContents || !event.senderFrame) return false;
  const frame = new URL(event.senderFrame.url);
  const ours = new URL(rendererUrl());
  return ours.protocol === 'file:' ? frame.protocol === 'file:' && frame.pathname === ours.pathname : frame.origin === ours.origin;
}

function registerIpc(): void {
  for (const name of API_METHODS) {
    ipcMain.handle(`api:${name}`, (event, args: unknown) => {
      if (!isOurFrame(event)) return { ok: false, error: { code: 'UNAUTHORIZED', message: 'call from an unknown frame' } };
      return dispatch(name, args);
    });
  }
  service.events.on('event', (msg: ApiEventMessage) => win?.webContents.send('api:event', msg));
}

/**
 * Serves boxtune-image://<id>/ (the file), <id>/thumb, <id>/preview and <id>/tiles/<level>/<col>_<row>.jpeg:
 * only images registered in the open project, never arbitrary paths (the same parser and lookup as
 * the HTTP routes, images/image-assets.ts).
 */
function registerImageProtocol(): void {
  protocol.handle(IMAGE_SCHEME, async (request) => {
    try {
      const url = new URL(request.url);
      const asset = parseImageAsset(url.pathname.replace(/^\//, ''));
      const file = await service.imageAsset(parseImageId(url.hostname), asset);
      const res = await net.fetch(pathToFileURL(file.absPath).href);
      const cacheControl = asset.kind === 'file' ? 'private, max-age=3600' : assetCacheControl(file.hash, url.searchParams.get('v'));
      return new Response(res.body, {
        status: res.status,
        headers: { 'Content-Type': file.contentType, 'Cache-Control': cacheControl },
      });
    } catch (err) {
      const info = toErrorInfo(err);
      return new Response(JSON.stringify({ ok: false, error: info }), { status: assetErrorStatus(info.code) });
    }
  });
}

function createWindow(): void {
  win = new BrowserWindow({
    width: 1320,
    height: 860,
    minWidth: 900,
    minHeight: 560,
    show: false,
    title: 'boxtune',
    backgroundColor: '#141619',
    // Packaged builds take the icon from the bundle; from source (npm start) it is resources/icon.png.
    icon: path.join(here, '../../resources/icon.png'),
    webPreferences: {
      preload: path.join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  win.once('ready-to-show', () => win?.show());
  win.on('closed', () => (win = null));
  // The window shows our page and nothing else: no pop-ups, no navigating away.
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.webContents.on('will-navigate', (event, url) => {
    if (url !== rendererUrl()) event.preventDefault();
  });
  void win.loadURL(rendererUrl());
}

/** Asks for a folder, then runs a project call with it; errors go to a message box. */
async function withFolder(title: string, method: 'project.create' | 'project.open'): Promise<void> {
  const options = { title, properties: ['openDirectory', 'createDirectory'] as ('openDirectory' | 'createDirectory')[] };
  const picked = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
  const dir = picked.filePaths[0];
  if (picked.canceled || !dir) return;
  const result = await dispatch(method, { dir });
  if (!result.ok) dialog.showErrorBox(title, result.error.message);
}

function buildMenu(): void {
  Menu.setApplicationMenu(
    Menu.buildFromTemplate([
      {
        label: 'File',
        submenu: [
          { label: 'New Project…', accelerator: 'CmdOrCtrl+N', click: () => void withFolder('New project', 'project.create') },
          { label: 'Open Project…', accelerator: 'CmdOrCtrl+O', click: () => void withFolder('Open project', 'project.open') },
          { type: 'separator' },
          { role: 'quit' },
        ],
      },
      { role: 'editMenu' },
      { role: 'viewMenu' },
    ]),
  );
}

const { values: cli } = parseArgs({
  args: process.argv.slice(app.isPackaged ? 1 : 2),
  options: { project: { type: 'string' } },
  strict: false,
  allowPositionals: true,
});

void app.whenReady().then(async () => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [contentSecurityPolicy({ electron: true })] },
    });
  });
  registerImageProtocol();
  registerIpc();
  buildMenu();
  if (typeof cli.project === 'string') {
    const opened = await dispatch('project.open', { dir: path.resolve(cli.project) });
    if (!opened.ok) dialog.showErrorBox('Cannot open project', opened.error.message);
  }
  createWindow();
});

app.on('window-all-closed', () => app.quit());

// Let running jobs stop and the database close before the process ends.
let closed = false;
app.on('will-quit', (event) => {
  if (closed) return;
  event.preventDefault();
  void service.close().finally(() => {
    closed = true;
    app.quit();
  });
});
