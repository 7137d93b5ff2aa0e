// mpfnet serve-example: the browser example (examples/browser/) on a local static server.
import type { Command } from 'commander';
import { EXIT, withExamples, type CommandModule } from '../common.js';
import { serveExample } from '../../serve/example-server.js';

export const serveExampleCommand: CommandModule = {
  register(program: Command, setExit) {
    withExamples(
      program
        .command('serve-example')
        .description('serve the browser example (ONNX model in onnxruntime-web, tiled, before/after) on 127.0.0.1')
        .option('--port <n>', 'port (0: any free one)', '8080')
        .option('--models <dir>', 'a folder of exported .onnx models the page offers'),
      ['mpfnet export m.safetensors -o models/m.onnx && mpfnet serve-example --models models'],
      'Open the printed address; stop with Ctrl-C.',
    ).action(async (o: { port: string; models?: string }) => {
      const port = Number(o.port);
      if (!Number.isSafeInteger(port)) throw new RangeError(`--port must be an integer, got ${JSON.stringify(o.port)}`);
      const server = await serveExample({ port, models: o.models });
      console.log(`browser example at ${server.url} (Ctrl-C stops)`);
      await new Promise<void>((done) => process.once('SIGINT', () => void server.close().then(done)));
      setExit(EXIT.aborted);
    });
  },
};
