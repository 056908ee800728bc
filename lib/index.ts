// durabook: a limit-order-book matching engine with a native core and an honest WAL.
export { Engine } from './engine.js';
export { CommandBatch, BatchResult } from './batch.js';
export { lockMemory, unlockMemory, type MemoryLock, type MemoryLockMode } from './memory-lock.js';
export { DurabookError, type ErrorCode } from './errors.js';
export type * from './types.js';
