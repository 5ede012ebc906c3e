using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Advantage.Actors;

// Compiled into the tests (HostileInputTests: does the learner survive?) and into the benchmark (bench hostile: at
// what pace?), so both run the very same scenario; hence no xunit here.
namespace Advantage.Cluster.Tests;

/// <summary>What the hostile-input scenario runs with.</summary>
/// <param name="Baseline">Length of each window without attacks.</param>
/// <param name="IdleHold">How long the 1,000 idle connections are held.</param>
/// <param name="WarmupVersion">The learner's version before the first window (past JIT and warm-up when pace matters).</param>
/// <param name="Deadline">The generous "never hangs" bound of every wait (a loaded machine trains and answers slowly).</param>
internal sealed record HostileSettings(TimeSpan Baseline, TimeSpan IdleHold, long WarmupVersion, TimeSpan Deadline);

/// <summary>
/// What the scenario saw: every attack's outcome, the windows, the learner's threads and memory, its ports; its most open
/// files in the first window without attacks (<c>BaselineFiles</c>) and from the first idle connection to the end of the
/// window after them (<c>IdleFiles</c>); the lines it printed that matter here (<c>LearnerLines</c>: refused inbound
/// connections, a lack of descriptors).
/// </summary>
internal sealed record HostileRun(Outcome Garbage, Outcome Http, Outcome Claim, Outcome Slow, IdleFlood Idle, string SoftFileLimit,
    IReadOnlyList<Window> Windows, (int Threads, long Rss) BaselineMost, (int Threads, long Rss) AttackMost, string SampleSummary,
    IReadOnlyList<int> PortsAtStart, IReadOnlyList<int> PortsWhileIdleHeld, IReadOnlyList<int> PortsAtEnd, bool LearnerExited, long CheckpointLoaded, int Port,
    int BaselineFiles, int IdleFiles, IReadOnlyList<string> LearnerLines)
{
    /// <summary>The learner's lines warning that it refused inbound connections beyond its cap.</summary>
    public IReadOnlyList<string> RefusalWarnings => [.. LearnerLines.Where(l => l.Contains("Refused an inbound connection", StringComparison.Ordinal))];

    /// <summary>The learner's lines saying it ran out of file descriptors.</summary>
    public IReadOnlyList<string> OutOfDescriptors => [.. LearnerLines.Where(l => l.Contains("Too many open files", StringComparison.OrdinalIgnoreCase))];

    public Window B0 => Windows[0];
    public Window Quick => Windows[1];
    public Window B1 => Windows[2];
    public Window IdleWindow => Windows[3];
    public Window B2 => Windows[4];

    /// <summary>An attack window's pace against the mean of the baselines either side.</summary>
    public static double Ratio(Window attack, Window before, Window after) =>
        attack.StepsPerSecond / ((before.StepsPerSecond + after.StepsPerSecond) / 2);

    public double QuickRatio => Ratio(Quick, B0, B1);

    public double IdleRatio => Ratio(IdleWindow, B1, B2);
}

/// <summary>
/// Hostile input at the learner's one port while a learner process (under <c>ulimit -n 1024</c>) and a worker process
/// train: random bytes, an HTTP request, a frame claiming 2 GB, a slow sender, then 1,000 idle connections, each attack
/// between two windows without attacks.
/// </summary>
internal static class HostileScenario
{
    public static async Task<HostileRun> RunAsync(HostileSettings settings, Action<string> log)
    {
        int port = Ports.Free();
        string folder = Directory.CreateTempSubdirectory("advantage-hostile-").FullName;
        string checkpoint = Path.Combine(folder, "learner.ckpt");
        var progress = new ProgressLog();
        var lines = new Timeline { CloseWithin = settings.Deadline };
        var learnerLines = new List<string>();
        var processes = new List<TrainProcess>();
        using var stopSampling = new CancellationTokenSource();
        Task? sampling = null;
        try
        {
            var learner = new TrainProcess("learner",
                ["learner", "--port", port.ToString(CultureInfo.InvariantCulture), "--workers", "1", "--envs-per-worker", "4", "--max-steps", "1000000000",
                    "--target-return", "1000000", "--checkpoint", checkpoint, "--checkpoint-interval", "200", "--output", Path.Combine(folder, "run"), "--overwrite"],
                line =>
                {
                    if (line.Contains("Refused an inbound connection", StringComparison.Ordinal) || line.Contains("Too many open files", StringComparison.OrdinalIgnoreCase))
                        lock (learnerLines) learnerLines.Add(line);
                    if (ProgressLine.Parse(line) is not { } p) return;
                    lines.Add(p);
                    progress.Add(p);
                },
                fileLimit: 1024);
            processes.Add(learner);
            processes.Add(new TrainProcess("worker", ["worker", "--join", $"127.0.0.1:{port}"]));
            await progress.WaitFor(p => p.Workers == 1 && p.Version >= settings.WarmupVersion, settings.Deadline, "the learner to train with its worker");
            string limit = ProcFiles.SoftFileLimit(learner.Id);

            var samples = new Samples();
            sampling = samples.Run(learner.Id, lines, stopSampling.Token);
            var portsAtStart = ProcFiles.ListeningPorts(learner.Id);

            // Baseline, the short attacks, baseline, the long ones, baseline: each attack window sits between two baselines
            // so a change in the machine's load (other processes share its cores) hits both sides alike.
            Outcome? garbage = null, http = null, claim = null, slow = null;
            IdleFlood? flood = null;
            List<int> portsWhileHeld = [];
            var b0 = await lines.Window("baseline 0", settings.Baseline);
            var quick = await lines.Window("random bytes, HTTP, a 2 GB frame, a slow sender", async () =>
            {
                var random = new byte[64 << 10];
                new Random(11).NextBytes(random);
                garbage = await Probe.SendAndWatch(port, random, settings.Deadline);
                log("random bytes: " + garbage);
                http = await Probe.SendAndWatch(port, Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"), settings.Deadline);
                log("HTTP request: " + http);
                // Akka.Remote's frames: a 4-byte little-endian length, then the payload. Claim int.MaxValue, send 1 MiB of it.
                var huge = new byte[4 + (1 << 20)];
                BitConverter.TryWriteBytes(huge.AsSpan(0, 4), int.MaxValue);
                claim = await Probe.SendAndWatch(port, huge, settings.Deadline);
                log("2 GB frame: " + claim);
                // Closed at Akka's handshake timeout (connection-timeout, 5 s), however slowly it keeps sending.
                slow = await Probe.SlowSender(port, TimeSpan.FromSeconds(5), settings.Deadline);
                log("slow sender: " + slow);
            });
            var b1 = await lines.Window("baseline 1", settings.Baseline);
            var idle = await lines.Window("1,000 idle connections", async () =>
            {
                flood = await Probe.HoldIdle(port, 1000, settings.IdleHold, learner.Id);
                log("idle connections: " + flood);
                portsWhileHeld = ProcFiles.ListeningPorts(learner.Id);
            });
            var b2 = await lines.Window("baseline 2", settings.Baseline);
            Window[] windows = [b0, quick, b1, idle, b2];
            foreach (var w in windows) log(w.ToString());
            log(samples.Summary());

            var baselineMost = samples.Most(b0.From, b0.To);
            var attackMost = samples.Most(quick.From, b2.To);
            int baselineFiles = samples.MostFiles(b0.From, b0.To);
            int idleFiles = Math.Max(flood!.FilesMost, samples.MostFiles(idle.From, b2.To));
            string[] printed;
            lock (learnerLines) printed = [.. learnerLines];
            log($"learner's open files: at most {baselineFiles} in baseline 0, at most {idleFiles} from the idle connections to the end of baseline 2; " +
                $"{printed.Count(l => l.Contains("Refused an inbound", StringComparison.Ordinal))} refusal warning line(s), " +
                $"{printed.Count(l => l.Contains("Too many open files", StringComparison.OrdinalIgnoreCase))} 'Too many open files' line(s)");
            bool exited = learner.HasExited;
            var portsAtEnd = ProcFiles.ListeningPorts(learner.Id);
            // What it saved is whole: the checkpoint written after the attacks loads.
            long loaded = await LoadsAfter(checkpoint, idle.Last.Version, settings.Deadline);
            log($"checkpoint at version {loaded} loads (attacks ended at version {idle.Last.Version})");
            return new HostileRun(garbage!, http!, claim!, slow!, flood, limit, windows, baselineMost, attackMost, samples.Summary(),
                portsAtStart, portsWhileHeld, portsAtEnd, exited, loaded, port, baselineFiles, idleFiles, printed);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException(e.Message + "\n" + string.Join("\n", processes.Select(p => p.Tail(60))), e);
        }
        finally
        {
            await stopSampling.CancelAsync();
            if (sampling is not null) await sampling;
            foreach (var p in processes) p.Dispose();
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The version of the first checkpoint past <paramref name="version"/> that loads whole.</summary>
    private static async Task<long> LoadsAfter(string path, long version, TimeSpan timeout)
    {
        using var wait = new CancellationTokenSource(timeout);
        using var ticks = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        Exception? last = null;
        do
        {
            try
            {
                var saved = Advantage.Learning.Checkpoint.Load(path);
                if (saved.Progress!.Version > version) return saved.Progress.Version;
            }
            catch (IOException e)
            {
                last = e; // replaced while being read; the next tick reads the new one
            }
        }
        while (await ticks.WaitForNextTickAsync(wait.Token).AsTask().ContinueWith(t => t.IsCompletedSuccessfully && t.Result, TaskScheduler.Default));
        throw new TimeoutException($"No checkpoint past version {version} loaded within {timeout.TotalSeconds:F0} s. {last?.Message}");
    }
}

/// <summary>Progress lines with the time they arrived, cut into windows.</summary>
internal sealed class Timeline
{
    private readonly List<(TimeSpan At, TrainingProgress Progress)> entries = [];
    private readonly Stopwatch clock = Stopwatch.StartNew();

    public TimeSpan Now => clock.Elapsed;

    /// <summary>How long a window waits for the progress line that closes it.</summary>
    public TimeSpan CloseWithin { get; init; } = TimeSpan.FromSeconds(10);

    public void Add(TrainingProgress p)
    {
        lock (entries) entries.Add((clock.Elapsed, p));
    }

    public async Task<Window> Window(string name, TimeSpan length) => await Window(name, () => Task.Delay(length));

    /// <summary>The progress from the start of <paramref name="during"/> to its end: steps over the learner's own seconds.</summary>
    public async Task<Window> Window(string name, Func<Task> during)
    {
        var from = clock.Elapsed;
        await during();
        var to = clock.Elapsed;
        // The first line after the end closes the window (lines come about twice a second; far fewer on a loaded machine).
        using var wait = new CancellationTokenSource(CloseWithin);
        using var ticks = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (true)
        {
            lock (entries)
            {
                int first = entries.FindLastIndex(e => e.At <= from);
                int last = entries.FindIndex(e => e.At >= to);
                if (first >= 0 && last > first)
                {
                    var inside = entries.Skip(first).Take(last - first + 1).Select(e => e.Progress).ToList();
                    return new Window(name, from, to, inside[0], inside[^1], inside.Min(p => p.Workers), inside[^1].RejectedRollouts - inside[0].RejectedRollouts);
                }
            }
            if (!await ticks.WaitForNextTickAsync(wait.Token).AsTask().ContinueWith(t => t.IsCompletedSuccessfully && t.Result, TaskScheduler.Default))
                throw new TimeoutException($"No progress line after the window '{name}'.");
        }
    }
}

internal sealed record Window(string Name, TimeSpan From, TimeSpan To, TrainingProgress First, TrainingProgress Last, int FewestWorkers, long Rejected)
{
    public double StepsPerSecond => (Last.Steps - First.Steps) / Math.Max(1e-9, Last.Seconds - First.Seconds);

    public override string ToString() =>
        $"{Name}: {StepsPerSecond:F0} steps/s over {Last.Seconds - First.Seconds:F1} s (versions {First.Version}..{Last.Version}), fewest workers {FewestWorkers}";
}

/// <summary>Threads and resident memory of a process, sampled every 200 ms.</summary>
internal sealed class Samples
{
    private readonly List<(TimeSpan At, int Threads, long Rss, int Files)> list = [];

    /// <summary>Samples until stopped or the process is gone, on the timeline's clock.</summary>
    public async Task Run(int pid, Timeline clock, CancellationToken stop)
    {
        using var ticks = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        try
        {
            do
            {
                if (ProcFiles.Status(pid) is not { } s) return;
                lock (list) list.Add((clock.Now, s.Threads, s.Rss, ProcFiles.OpenFiles(pid)));
            }
            while (await ticks.WaitForNextTickAsync(stop));
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The most threads and resident bytes sampled from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public (int Threads, long Rss) Most(TimeSpan from, TimeSpan to)
    {
        lock (list)
        {
            var inside = list.Where(s => s.At >= from && s.At <= to).ToList();
            if (inside.Count == 0) throw new InvalidOperationException($"No sample of the learner between {from} and {to}.");
            return (inside.Max(s => s.Threads), inside.Max(s => s.Rss));
        }
    }

    /// <summary>The most open files sampled from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public int MostFiles(TimeSpan from, TimeSpan to)
    {
        lock (list)
        {
            var inside = list.Where(s => s.At >= from && s.At <= to).ToList();
            if (inside.Count == 0) throw new InvalidOperationException($"No sample of the learner between {from} and {to}.");
            return inside.Max(s => s.Files);
        }
    }

    public string Summary()
    {
        lock (list)
            return $"learner: threads {list.Min(s => s.Threads)}..{list.Max(s => s.Threads)}, RSS {list.Min(s => s.Rss) >> 20}..{list.Max(s => s.Rss) >> 20} MiB, " +
                   $"open files {list.Min(s => s.Files)}..{list.Max(s => s.Files)} ({list.Count} samples)";
    }
}

/// <summary>What /proc says about a process: threads, memory, descriptors, listening sockets.</summary>
internal static class ProcFiles
{
    public static (int Threads, long Rss)? Status(int pid)
    {
        try
        {
            int threads = 0;
            long rss = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("Threads:", StringComparison.Ordinal)) threads = int.Parse(line[8..].Trim(), CultureInfo.InvariantCulture);
                else if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = 1024 * long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
            return (threads, rss);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // gone
        }
    }

    public static string SoftFileLimit(int pid) =>
        File.ReadLines($"/proc/{pid}/limits").First(l => l.StartsWith("Max open files", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[3];

    /// <summary>CPU ticks (1/100 s) used by each thread so far, keyed "name/tid".</summary>
    public static Dictionary<string, long> ThreadTicks(int pid)
    {
        var ticks = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var task in Directory.GetDirectories($"/proc/{pid}/task"))
        {
            try
            {
                string stat = File.ReadAllText(Path.Combine(task, "stat"));
                int open = stat.IndexOf('(', StringComparison.Ordinal), close = stat.LastIndexOf(')');
                var f = stat[(close + 2)..].Split(' ');
                // After the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
                ticks[$"{stat[(open + 1)..close]}/{Path.GetFileName(task)}"] = long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // the thread ended
            }
        }
        return ticks;
    }

    public static int OpenFiles(int pid)
    {
        try
        {
            return Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>Ports of the TCP sockets in LISTEN state that this process holds (its fds' socket inodes in /proc/net/tcp{,6}).</summary>
    public static List<int> ListeningPorts(int pid)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var fd in Directory.GetFileSystemEntries($"/proc/{pid}/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal)) inodes.Add(target[8..^1]);
            }
            catch (IOException)
            {
                // closed while listed
            }
        }
        var ports = new List<int>();
        foreach (var table in new[] { $"/proc/{pid}/net/tcp", $"/proc/{pid}/net/tcp6" })
        {
            if (!File.Exists(table)) continue;
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
                if (f.Length < 10 || f[3] != "0A" || !inodes.Contains(f[9])) continue;
                ports.Add(int.Parse(f[1].Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            }
        }
        ports.Sort();
        return ports;
    }
}

/// <summary>What 1,000 idle connections did to the learner's descriptors (sampled every 100 ms while they were held).</summary>
internal sealed record IdleFlood(string Report, int FilesBefore, int FilesMost, int FilesAtEnd)
{
    public override string ToString() => Report;
}

internal sealed record Outcome(bool Closed, TimeSpan After, long BytesBack, string How)
{
    public override string ToString() => $"{How} after {After.TotalMilliseconds:F0} ms, {BytesBack} bytes back";
}

/// <summary>Hostile clients of a TCP port on loopback, every one bounded in time.</summary>
internal static class Probe
{
    private static async Task<Socket> Connect(int port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token);
        return s;
    }

    /// <summary>Sends <paramref name="payload"/>, then reads until the peer closes or <paramref name="wait"/> passes.</summary>
    public static async Task<Outcome> SendAndWatch(int port, byte[] payload, TimeSpan wait)
    {
        using var s = await Connect(port);
        var clock = Stopwatch.StartNew();
        using var timeout = new CancellationTokenSource(wait);
        try
        {
            await s.SendAsync(payload, SocketFlags.None, timeout.Token);
        }
        catch (SocketException e)
        {
            return new Outcome(true, clock.Elapsed, 0, $"reset while sending ({e.SocketErrorCode})");
        }
        return await WatchClose(s, clock, timeout.Token);
    }

    private static async Task<Outcome> WatchClose(Socket s, Stopwatch clock, CancellationToken timeout)
    {
        var buffer = new byte[4096];
        long back = 0;
        try
        {
            while (true)
            {
                int n = await s.ReceiveAsync(buffer, SocketFlags.None, timeout);
                if (n == 0) return new Outcome(true, clock.Elapsed, back, "closed by the learner");
                back += n;
            }
        }
        catch (SocketException e)
        {
            return new Outcome(true, clock.Elapsed, back, $"reset by the learner ({e.SocketErrorCode})");
        }
        catch (OperationCanceledException)
        {
            return new Outcome(false, clock.Elapsed, back, "still open");
        }
    }

    /// <summary>A frame header claiming 1,000 bytes, then one byte every 100 ms for <paramref name="length"/>.</summary>
    public static async Task<Outcome> SlowSender(int port, TimeSpan length, TimeSpan settleWithin)
    {
        using var s = await Connect(port);
        var clock = Stopwatch.StartNew();
        var header = new byte[4];
        BitConverter.TryWriteBytes(header, 1000);
        using var ticks = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        try
        {
            await s.SendAsync(header, SocketFlags.None);
            for (int i = 0; clock.Elapsed < length && await ticks.WaitForNextTickAsync(); i++)
                await s.SendAsync(new[] { (byte)i }, SocketFlags.None);
        }
        catch (SocketException e)
        {
            return new Outcome(true, clock.Elapsed, 0, $"reset while dribbling ({e.SocketErrorCode})");
        }
        using var settle = new CancellationTokenSource(settleWithin);
        var end = await WatchClose(s, clock, settle.Token);
        return end with { How = end.Closed ? end.How : $"still open {settleWithin.TotalSeconds:F0} s after dribbling {(int)(length.TotalMilliseconds / 100)} bytes" };
    }

    /// <summary>Opens <paramref name="count"/> connections that send nothing and holds them for <paramref name="hold"/>.</summary>
    public static async Task<IdleFlood> HoldIdle(int port, int count, TimeSpan hold, int pid)
    {
        var sockets = new List<Socket>(count);
        var clock = Stopwatch.StartNew();
        int failed = 0, filesBefore = ProcFiles.OpenFiles(pid), filesMost = filesBefore;
        try
        {
            for (int i = 0; i < count && clock.Elapsed < TimeSpan.FromSeconds(10); i++)
            {
                try
                {
                    sockets.Add(await Connect(port));
                    if (i % 50 == 0) filesMost = Math.Max(filesMost, ProcFiles.OpenFiles(pid));
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException)
                {
                    failed++;
                }
            }
            var opened = clock.Elapsed;
            var cpuBefore = ProcFiles.ThreadTicks(pid);
            using var ticks = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
            while (clock.Elapsed < opened + hold && await ticks.WaitForNextTickAsync())
                filesMost = Math.Max(filesMost, ProcFiles.OpenFiles(pid));
            var busiest = ProcFiles.ThreadTicks(pid).Select(t => (t.Key, Ticks: t.Value - cpuBefore.GetValueOrDefault(t.Key))).OrderByDescending(t => t.Ticks).Take(3)
                .Select(t => $"{t.Key} {t.Ticks / 100.0 / hold.TotalSeconds:P0}");
            int filesAtEnd = ProcFiles.OpenFiles(pid);
            return new IdleFlood($"{sockets.Count} opened in {opened.TotalSeconds:F1} s ({failed} failed), held {hold.TotalSeconds:F0} s; " +
                   $"learner's open files {filesBefore} before, {filesMost} at most, {filesAtEnd} at the end; " +
                   $"its busiest threads meanwhile (share of a core): {string.Join(", ", busiest)}", filesBefore, filesMost, filesAtEnd);
        }
        finally
        {
            foreach (var s in sockets) s.Dispose();
        }
    }
}
