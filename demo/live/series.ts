// Growing time series for the live plots: values binned over a fixed number of steps so a long run stays a few
// thousand points.

export class BinnedSeries {
  readonly x: number[] = [];
  readonly y: number[] = [];
  private sum = 0;
  private count = 0;
  private first = 0;

  /** `every` steps per point; x of a point is the mean of its steps' x. */
  constructor(private readonly every: number) {}

  push(x: number, y: number): void {
    if (this.count === 0) this.first = x;
    this.sum += y;
    this.count += 1;
    if (this.count === this.every) {
      this.x.push((this.first + x) / 2);
      this.y.push(this.sum / this.count);
      this.sum = this.count = 0;
    }
  }
}

/** Steps per plotted point: at most ~maxPoints points over a run. */
export const binSteps = (steps: number, maxPoints = 1500) => Math.max(1, Math.ceil(steps / maxPoints));
