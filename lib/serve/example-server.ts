// The local static server for examples/browser/ (`mpfnet serve-example`): 127.0.0.1 only, GET/HEAD
// only, no directory listings, paths confined to their roots. It sends COOP/COEP so the page is
// cross-origin isolated and onnxruntime-web may use WASM threads (SharedArrayBuffer).
//   /               examples/browser/ (index.html, app.js, style.css)
//   /ort/           onnxruntime-web's dist/ (the WASM runtime)
//   /mpfnet/        our tile planning and blending (lib/infer/tiles.js, blend.js), so the page blends
//                   tiles exactly as `mpfnet upscale` does; compiled from the .ts on the fly when the
//                   package runs from sources
//   /photos/        the bundled photos (data/images/)
//   /models/        .onnx files of the --models folder; /models/index.json lists them
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../../bindings/index.js';

/** Options of serveExample. */
export interface ServeExampleOptions {
  /** Port on 127.0.0.1 (default 8080; 0: any free port). */
  port?: number;
  /** A folder of exported .onnx models the page offers (default: none; the page also takes a dropped file). */
  models?: string;
}

/** A running example server. */
export interface ExampleServer {
  /** http://127.0.0.1:<port>/ */
  url: string;
  /** Stop serving: drops open connections and resolves once the port is free. */
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
};

/** The browser-safe modules of lib/infer/ the page imports (no Node APIs, no native code). */
const BROWSER_MODULES = new Set(['tiles.js', 'blend.js']);

function ortWebDist(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
  } catch {
    throw new RangeError('serve-example: the browser example needs onnxruntime-web; install it next to mpfnet: npm install onnxruntime-web');
  }
}

/** `rel` inside `root`, or null when it would escape it. */
function inside(root: string, rel: string): string | null {
  const p = resolve(root, `.${sep}${decodeURIComponent(rel)}`);
  return p === root || p.startsWith(root + sep) ? p : null;
}

/** Our lib/infer module as browser JavaScript: the compiled .js, or the .ts transpiled (sources). */
async function inferModule(name: string): Promise<string | null> {
  if (!BROWSER_MODULES.has(name)) return null;
  const here = dirname(fileURLToPath(import.meta.url)); // <lib>/serve
  const js = join(here, '..', 'infer', name);
  if (existsSync(js)) return readFileSync(js, 'utf8');
  const ts = js.replace(/\.js$/, '.ts');
  if (!existsSync(ts)) return null;
  const { default: typescript } = await import('typescript');
  return typescript.transpileModule(readFileSync(ts, 'utf8'), { compilerOptions: { target: typescript.ScriptTarget.ES2022, module: typescript.ModuleKind.ES2022 } }).outputText;
}

/** Start the example's static server on 127.0.0.1. */
export async function serveExample(o: ServeExampleOptions = {}): Promise<ExampleServer> {
  const port = o.port ?? 8080;
  if (!Number.isSafeInteger(port) || port < 0 || port > 65535) throw new RangeError(`serve-example: port must be 0..65535, got ${JSON.stringify(o.port)}`);
  const root = packageRoot();
  const roots: Record<string, string> = { '/ort/': ortWebDist(), '/photos/': join(root, 'data', 'images'), '/': join(root, 'examples', 'browser') };
  if (!existsSync(roots['/']!)) throw new RangeError(`serve-example: ${roots['/']} is missing`);
  let models: string | null = null;
  if (o.models !== undefined) {
    models = resolve(o.models);
    if (!existsSync(models) || !statSync(models).isDirectory()) throw new RangeError(`serve-example: --models ${o.models} is not a folder`);
  }
  const listModels = () => (models ? readdirSync(models).filter((f) => f.endsWith('.onnx')).sort() : []);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('Cache-Control', 'no-store');
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405).end();
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const send = (type: string, body: string | Buffer) => void res.writeHead(200, { 'Content-Type': type }).end(req.method === 'HEAD' ? undefined : body);
    if (path === '/models/index.json') return send(TYPES['.json']!, JSON.stringify(listModels().map((f) => ({ name: f, url: `/models/${encodeURIComponent(f)}` }))));
    if (path.startsWith('/mpfnet/')) {
      const code = await inferModule(path.slice('/mpfnet/'.length));
      return code === null ? void res.writeHead(404).end() : send(TYPES['.js']!, code);
    }
    let file: string | null = null;
    if (path.startsWith('/models/') && models) {
      const name = decodeURIComponent(path.slice('/models/'.length));
      if (listModels().includes(name)) file = join(models, name);
    } else {
      const prefix = Object.keys(roots).find((p) => path.startsWith(p))!;
      const rel = path.slice(prefix.length) || (prefix === '/' ? 'index.html' : '');
      file = rel ? inside(roots[prefix]!, rel) : null;
    }
    if (!file || !existsSync(file) || !statSync(file).isFile()) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': statSync(file).size });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).pipe(res);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(String((e as Error).message));
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (e) => fail(new RangeError(`serve-example: cannot listen on 127.0.0.1:${port}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
    server.listen(port, '127.0.0.1', () => ok());
  });
  const actual = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${actual}/`,
    close: () => new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    }),
  };
}
