/** Suffix of a retried run's id: its earlier attempt stays in the store under the plain id. */
export const RETRY_MARK = '~retry';
