/**
 * Runs at most `limit` jobs at once, higher priority first (0 before 1 …),
 * first come first served within a priority. Trees go first so a pull
 * discovers work breadth-first while files stream behind it.
 */
export class Scheduler {
  private active = 0;
  private readonly queues: (() => void)[][];

  constructor(
    private readonly limit: number,
    priorities = 2,
  ) {
    this.queues = Array.from({ length: priorities }, () => []);
  }

  run<T>(priority: number, fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.active++;
        fn()
          .then(resolve, reject)
          .finally(() => {
            this.active--;
            this.next();
          });
      };
      if (this.active < this.limit) start();
      else this.queues[priority]!.push(start);
    });
  }

  private next(): void {
    for (const q of this.queues) {
      const job = q.shift();
      if (job) return job();
    }
  }
}
