/** What a page gets: where to draw, the route's parameters, and timers that stop when the person navigates away. */
export interface PageContext {
  main: HTMLElement;
  params: string[];
  query: URLSearchParams;
  /** runs `fn` every `ms` until the page is left; fn returns false to stop */
  every(ms: number, fn: () => Promise<boolean | void>): void;
  /** shows an error (or clears it with null) in the notice area */
  notice(message: string | null, kind?: 'error' | 'info'): void;
  /** true once the person has left this page */
  readonly left: boolean;
}
