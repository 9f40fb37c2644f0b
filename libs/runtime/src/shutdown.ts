import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { stopRuntime, type Runtime } from './runtime';

export const RUNTIME = Symbol('RUNTIME');

/**
 * What a signal stops besides Nest's own providers (app.enableShutdownHooks() in the apps' main.ts): the runtime's
 * connections and anything a process registered (the worker's health server). A close from code (tests) carries no
 * signal and leaves the runtime to whoever started it.
 */
@Injectable()
export class ProcessShutdown implements OnApplicationShutdown {
  private readonly tasks: Array<() => unknown> = [];

  constructor(@Inject(RUNTIME) private readonly rt: Runtime) {}

  onSignal(task: () => unknown): void {
    this.tasks.push(task);
  }

  async onApplicationShutdown(signal?: string): Promise<void> {
    if (!signal) return;
    Logger.log(`${signal}: shut down`, 'Brine');
    for (const t of this.tasks) await t();
    await stopRuntime(this.rt);
  }
}
