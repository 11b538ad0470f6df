package dev.syncline.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * CPU time on Linux from {@code /proc}: of this JVM's threads (by name, as the kernel knows them),
 * of every {@code postgres} process on the machine, and the machine's idle time. Take one before
 * and one after a phase and print the difference; elsewhere than Linux everything reads as zero.
 */
record CpuUsage(Map<String, Long> jvmThreads, Map<String, Long> postgres, long idle) {
  private static final double TICK = 100.0; // USER_HZ on Linux

  /** The counters now, in clock ticks. */
  static CpuUsage now() {
    Map<String, Long> threads = new TreeMap<>();
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      tasks.forEach(
          t -> {
            long[] cpu = ticks(t.resolve("stat"));
            if (cpu != null) {
              threads.merge(group(comm(t.resolve("stat"))), cpu[0] + cpu[1], Long::sum);
            }
          });
    } catch (IOException e) {
      return new CpuUsage(Map.of(), Map.of(), 0);
    }
    Map<String, Long> pg = new TreeMap<>();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path p : (Iterable<Path>) procs::iterator) {
        if (p.getFileName().toString().chars().allMatch(Character::isDigit)
            && "postgres".equals(comm(p.resolve("stat")))) {
          long[] cpu = ticks(p.resolve("stat"));
          if (cpu != null) {
            // A postmaster's children that ended (e.g. the copy's connection) count in its cutime
            // and cstime.
            String role = role(p);
            long server =
                role.startsWith("postmaster") ? Long.parseLong(p.getFileName().toString()) : cpu[2];
            pg.merge("server " + server + " " + role, cpu[0] + cpu[1] + cpu[3] + cpu[4], Long::sum);
          }
        }
      }
    } catch (IOException e) {
      pg.clear();
    }
    long idle = 0;
    try {
      String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+", -1);
      idle = Long.parseLong(cpu[4]) + Long.parseLong(cpu[5]);
    } catch (IOException | RuntimeException e) {
      idle = 0;
    }
    return new CpuUsage(threads, pg, idle);
  }

  /** What was used from {@code before} to this, as one line of seconds. */
  String since(CpuUsage before) {
    Map<String, Long> diff = new TreeMap<>();
    jvmThreads.forEach((name, t) -> diff.put(name, t - before.jvmThreads.getOrDefault(name, 0L)));
    long jvm = diff.values().stream().mapToLong(Long::longValue).sum();
    Map<String, Long> pgDiff = new TreeMap<>();
    postgres.forEach((name, t) -> pgDiff.put(name, t - before.postgres.getOrDefault(name, 0L)));
    long pgTotal = pgDiff.values().stream().mapToLong(Long::longValue).sum();
    StringBuilder sb =
        new StringBuilder(String.format(Locale.ROOT, "CPU: JVM %.1f s (", jvm / TICK));
    diff.entrySet().stream()
        .filter(e -> e.getValue() >= 2)
        .sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
        .forEach(
            e ->
                sb.append(
                    String.format(Locale.ROOT, "%s %.1f, ", e.getKey(), e.getValue() / TICK)));
    if (sb.charAt(sb.length() - 1) == ' ') {
      sb.setLength(sb.length() - 2);
    }
    sb.append(String.format(Locale.ROOT, "), postgres processes %.1f s (", pgTotal / TICK));
    pgDiff.entrySet().stream()
        .filter(e -> e.getValue() >= 2)
        .sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
        .forEach(
            e ->
                sb.append(
                    String.format(Locale.ROOT, "%s %.1f, ", e.getKey(), e.getValue() / TICK)));
    if (sb.charAt(sb.length() - 1) == ' ') {
      sb.setLength(sb.length() - 2);
    }
    return sb.append(
            String.format(Locale.ROOT, "), machine idle %.1f s", (idle - before.idle) / TICK))
        .toString();
  }

  /** CPU seconds of all this JVM's threads from {@code before} to this. */
  double jvmTotal(CpuUsage before) {
    return jvmThreads(before, "");
  }

  /**
   * CPU seconds of this JVM's threads whose (kernel, 15-character) name starts with {@code prefix}.
   */
  double jvmThreads(CpuUsage before, String prefix) {
    long sum = 0;
    for (Map.Entry<String, Long> e : jvmThreads.entrySet()) {
      if (e.getKey().startsWith(prefix)) {
        sum += e.getValue() - before.jvmThreads.getOrDefault(e.getKey(), 0L);
      }
    }
    return sum / TICK;
  }

  /** CPU seconds of every Postgres process from {@code before} to this. */
  double postgresTotal(CpuUsage before) {
    long sum = 0;
    for (Map.Entry<String, Long> e : postgres.entrySet()) {
      sum += e.getValue() - before.postgres.getOrDefault(e.getKey(), 0L);
    }
    return sum / TICK;
  }

  /** Thread names with their numbers folded (GC workers, compilers). */
  private static String group(String name) {
    return name.replaceAll("#?\\d+$", "").replaceAll("\\s+$", "");
  }

  /**
   * A postgres process's role from its title: "walwriter", "checkpointer", or the client's address
   * for backends.
   */
  private static String role(Path proc) {
    try {
      String title =
          new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8)
              .replace('\0', ' ')
              .trim();
      if (!title.startsWith("postgres: ")) {
        return "postmaster (and ended children)";
      }
      String[] words = title.substring("postgres: ".length()).split(" ", -1);
      return words.length >= 3 && words[2].contains("(") ? "backend " + words[2] : words[0];
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }

  private static String comm(Path stat) {
    try {
      String s = Files.readString(stat);
      return s.substring(s.indexOf('(') + 1, s.lastIndexOf(')'));
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  private static long[] ticks(Path stat) {
    try {
      String s = Files.readString(stat);
      String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ", -1);
      return new long[] {
        Long.parseLong(f[11]),
        Long.parseLong(f[12]),
        Long.parseLong(f[1]),
        Long.parseLong(f[13]),
        Long.parseLong(f[14])
      };
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}
