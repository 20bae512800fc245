/** Why a line or message was not used. Counted by reason; the first few are kept with their line numbers. */
export type RejectReason =
  | 'malformed'
  | 'bad-number'
  | 'bad-timestamp'
  | 'no-quantity'
  | 'no-current'
  | 'unknown-topic'
  | 'too-large'
  | 'unknown-cell'
  | 'too-many-cells'
  | 'bad-cell-id'
  | 'duplicate'
  | 'late'
  | 'future'
  | 'clock-offset'
  | 'past';
