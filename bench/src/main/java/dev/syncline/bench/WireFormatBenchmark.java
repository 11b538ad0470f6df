package dev.syncline.bench;

import dev.syncline.api.WireFormat;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Cost of writing REALs in JavaScript's shortest form: typical two-decimal values and
 * full-precision doubles.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class WireFormatBenchmark {
  double[] prices = new double[1024];
  double[] random = new double[1024];
  int i;

  @Setup
  public void setup() {
    SplittableRandom r = new SplittableRandom(3);
    for (int n = 0; n < prices.length; n++) {
      prices[n] = Math.round(r.nextDouble() * 100_000) / 100.0;
      random[n] = r.nextDouble() * Math.pow(10, r.nextInt(-10, 10));
    }
  }

  @Benchmark
  public String twoDecimalReal() {
    return WireFormat.formatReal(prices[i++ & 1023]);
  }

  @Benchmark
  public String fullPrecisionReal() {
    return WireFormat.formatReal(random[i++ & 1023]);
  }
}
