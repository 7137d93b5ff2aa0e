// Every CLI command, in the order `mpfnet --help` lists them.
import type { CommandModule } from '../common.js';

export const commands: CommandModule[] = [];
