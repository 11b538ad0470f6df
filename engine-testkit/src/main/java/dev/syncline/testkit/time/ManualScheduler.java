package dev.syncline.testkit.time;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RunnableScheduledFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A {@link ScheduledExecutorService} that runs nothing by itself: tasks run on the test's thread
 * when the test calls {@link #runDue()} or moves the {@link ManualClock} the scheduler reads, in
 * the order they fall due (ties in the order they were scheduled). Hand it to code that takes a
 * scheduler (the sync service's keepalives and stream advances, the engine's maintenance) to test
 * timing without waiting and without races.
 *
 * <p>{@link #execute} and zero delays are due at once, so they run at the next {@link #runDue()}.
 * Periodic tasks are rescheduled after each run (fixed rate: from their due time; fixed delay: from
 * the clock after the run); a task that throws is not run again, as with the JDK's executors. After
 * {@link #shutdown()}, delayed tasks still run when due and periodic ones are dropped.
 *
 * <p>Thread-safe: tasks may be scheduled from any thread; they run on whichever thread calls {@link
 * #runDue()} or moves the clock.
 */
public final class ManualScheduler extends AbstractExecutorService
    implements ScheduledExecutorService {
  private final ManualClock clock;
  private final PriorityQueue<Task<?>> queue = new PriorityQueue<>();
  private long sequence;
  private boolean shutdown;

  /** A scheduler on {@code clock}: moving the clock runs what falls due. */
  public ManualScheduler(ManualClock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
    clock.onAdvance(this::runDue);
  }

  /** The clock tasks are timed by. */
  public ManualClock clock() {
    return clock;
  }

  /**
   * Runs every task due at the clock's current time, including tasks those tasks schedule when they
   * are due too.
   *
   * @return how many tasks ran
   */
  public int runDue() {
    int ran = 0;
    while (true) {
      Task<?> next;
      synchronized (this) {
        next = queue.peek();
        if (next == null || next.due.isAfter(clock.instant())) {
          return ran;
        }
        queue.poll();
      }
      next.run();
      ran++;
    }
  }

  /** Tasks waiting to run (cancelled ones are removed). */
  public synchronized int pending() {
    return queue.size();
  }

  /** When the next task falls due; empty when none waits. */
  public synchronized Optional<Instant> nextDue() {
    Task<?> next = queue.peek();
    return next == null ? Optional.empty() : Optional.of(next.due);
  }

  @Override
  public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
    return enqueue(new Task<>(command, null, due(delay, unit), null, false));
  }

  @Override
  public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
    return enqueue(new Task<>(callable, due(delay, unit)));
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(
      Runnable command, long initialDelay, long period, TimeUnit unit) {
    return enqueue(
        new Task<>(command, null, due(initialDelay, unit), positive(period, unit), true));
  }

  @Override
  public ScheduledFuture<?> scheduleWithFixedDelay(
      Runnable command, long initialDelay, long delay, TimeUnit unit) {
    return enqueue(
        new Task<>(command, null, due(initialDelay, unit), positive(delay, unit), false));
  }

  @Override
  public void execute(Runnable command) {
    ScheduledFuture<?> unused = schedule(command, 0, TimeUnit.NANOSECONDS);
  }

  @Override
  public synchronized void shutdown() {
    shutdown = true;
    queue.removeIf(Task::isPeriodic);
  }

  @Override
  public synchronized List<Runnable> shutdownNow() {
    shutdown = true;
    List<Runnable> left = new ArrayList<>(queue);
    queue.clear();
    return left;
  }

  @Override
  public synchronized boolean isShutdown() {
    return shutdown;
  }

  @Override
  public synchronized boolean isTerminated() {
    return shutdown && queue.isEmpty();
  }

  /** Returns at once: nothing runs unless the test runs it. */
  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) {
    return isTerminated();
  }

  private Instant due(long delay, TimeUnit unit) {
    return clock.instant().plus(Duration.ofNanos(Math.max(0, unit.toNanos(delay))));
  }

  private static Duration positive(long period, TimeUnit unit) {
    if (period <= 0) {
      throw new IllegalArgumentException("period must be positive: " + period + " " + unit);
    }
    return Duration.ofNanos(unit.toNanos(period));
  }

  private synchronized <V> Task<V> enqueue(Task<V> task) {
    if (shutdown) {
      throw new RejectedExecutionException("the scheduler is shut down");
    }
    task.sequence = sequence++;
    queue.add(task);
    return task;
  }

  private synchronized void requeue(Task<?> task) {
    if (!shutdown) {
      task.sequence = sequence++;
      queue.add(task);
    }
  }

  private synchronized void remove(Task<?> task) {
    queue.remove(task);
  }

  private final class Task<V> extends FutureTask<V> implements RunnableScheduledFuture<V> {
    private Instant due;
    private long sequence;
    private final @Nullable Duration period;
    private final boolean fixedRate;

    Task(
        Runnable command,
        @Nullable V result,
        Instant due,
        @Nullable Duration period,
        boolean fixedRate) {
      super(command, result);
      this.due = due;
      this.period = period;
      this.fixedRate = fixedRate;
    }

    Task(Callable<V> callable, Instant due) {
      super(callable);
      this.due = due;
      this.period = null;
      this.fixedRate = false;
    }

    @Override
    public boolean isPeriodic() {
      return period != null;
    }

    @Override
    public long getDelay(TimeUnit unit) {
      return unit.convert(Duration.between(clock.instant(), due));
    }

    @Override
    public int compareTo(Delayed other) {
      if (other instanceof Task<?> t) {
        int c = due.compareTo(t.due);
        return c != 0 ? c : Long.compare(sequence, t.sequence);
      }
      return Long.compare(getDelay(TimeUnit.NANOSECONDS), other.getDelay(TimeUnit.NANOSECONDS));
    }

    @Override
    public void run() {
      Duration p = period;
      if (p == null) {
        super.run();
      } else if (super.runAndReset()) {
        due = fixedRate ? due.plus(p) : clock.instant().plus(p);
        requeue(this);
      }
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      boolean cancelled = super.cancel(mayInterruptIfRunning);
      if (cancelled) {
        remove(this);
      }
      return cancelled;
    }
  }
}
