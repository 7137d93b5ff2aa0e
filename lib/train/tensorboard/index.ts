// TensorBoard event files, written without TensorFlow: see docs/tensorboard.md.
export { crc32c, maskedCrc32c } from './crc32c.js';
export { EventFileWriter, encodeRecord, FILE_VERSION } from './event-file.js';
export { SummaryWriter } from './board.js';
export { TrainingBoard, sideBySide } from './training-board.js';
