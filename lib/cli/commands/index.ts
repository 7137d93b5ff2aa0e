// Every CLI command, in the order `mpfnet --help` lists them.
import type { CommandModule } from '../common.js';
import { initCommand } from './init.js';
import { summaryCommand } from './summary.js';
import { trainCommand } from './train.js';
import { resizeCommand } from './resize.js';
import { evalCommand } from './eval.js';
import { upscaleCommand } from './upscale.js';
import { demoCommand } from './demo.js';
import { pretrainEmbeddingCommand } from './pretrain-embedding.js';
import { exportCommand } from './export.js';
import { serveExampleCommand } from './serve-example.js';

export const commands: CommandModule[] = [initCommand, summaryCommand, trainCommand, pretrainEmbeddingCommand, evalCommand, resizeCommand, upscaleCommand, demoCommand, exportCommand, serveExampleCommand];
