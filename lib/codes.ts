// Numeric codes shared with native/core/types.h (OrderStatus, Reason): keep the same order.
import type { OrderStatus, RejectReason } from './types.js';

export const STATUSES: readonly OrderStatus[] = ['new', 'partially_filled', 'filled', 'cancelled', 'rejected'];
export const REASONS: readonly (RejectReason | undefined)[] = [
  undefined,
  'POST_ONLY_WOULD_CROSS',
  'DUPLICATE_ORDER_ID',
  'UNKNOWN_ORDER',
  'ORDER_LIMIT',
  'LEVEL_LIMIT',
];
/** CommandError (native) → the field it concerns, for messages. */
export const COMMAND_ERROR_FIELDS: readonly string[] = [
  'ok',
  'id',
  'qty',
  'price',
  'side',
  'tif',
  'price',
  'tif',
  'postOnly',
  'modify',
  'symbol',
  'symbol',
  'symbol',
  'symbols',
  'seq',
];
