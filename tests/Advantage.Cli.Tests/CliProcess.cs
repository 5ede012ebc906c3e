using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Advantage.Cli.Tests;

// The advantage-train executable as a child process. Compiled into Advantage.Cluster.Tests too (a linked file): the
// cluster's multi-process tests start its learner and worker commands.

internal static class Ports
{
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Runs advantage-train (src/Cli) to its end, for tests of its commands.</summary>
internal static class TrainCli
{
    public static async Task<(int ExitCode, string Output)> Run(IEnumerable<string> args, TimeSpan timeout)
    {
        var info = new ProcessStartInfo { FileName = "dotnet", RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(TrainProcess.Executable());
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"advantage-train {string.Join(' ', info.ArgumentList.Skip(1))} ran longer than {timeout.TotalSeconds:F0} s.");
        }
        return (process.ExitCode, await stdout + await stderr);
    }
}

/// <summary>advantage-train (src/Cli), started as a child process on loopback; killed on dispose.</summary>
internal sealed class TrainProcess : IDisposable
{
    private readonly Process process;
    private readonly List<string> output = [];

    /// <param name="name">Prefix of the output lines kept for failure messages.</param>
    /// <param name="args">The command and its options.</param>
    /// <param name="onLine">Called with every line of standard output.</param>
    /// <param name="fileLimit">If set, the process starts under <c>ulimit -n</c> of this many descriptors (bash execs dotnet, so the pid is dotnet's).</param>
    public TrainProcess(string name, IEnumerable<string> args, Action<string>? onLine = null, int? fileLimit = null)
    {
        Name = name;
        var info = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        string dll = Executable();
        info.FileName = "dotnet";
        if (fileLimit is { } limit)
        {
            info.FileName = "bash";
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add($"ulimit -n {limit.ToString(System.Globalization.CultureInfo.InvariantCulture)} && exec dotnet \"$@\"");
            info.ArgumentList.Add("bash");
        }
        int first = info.ArgumentList.Count;
        info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        if (info.ArgumentList.Count > first + 1 && info.ArgumentList[first + 1] is "learner" or "worker")
        {
            info.ArgumentList.Add("--exit-with-parent");
            info.ArgumentList.Add(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (output) output.Add(e.Data);
            onLine?.Invoke(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (output) output.Add("! " + e.Data);
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Name { get; }

    public bool HasExited => process.HasExited;

    /// <summary>The process id (dotnet's, also when started under a file limit).</summary>
    public int Id => process.Id;

    public string Tail(int lines = 30)
    {
        lock (output) return $"--- {Name} ---\n" + string.Join("\n", output.TakeLast(lines));
    }

    /// <summary>Sends a POSIX signal (2 SIGINT, 15 SIGTERM) as a terminal, timeout or systemd would.</summary>
    public void Signal(int signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal.ToString(System.Globalization.CultureInfo.InvariantCulture), process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
    }

    /// <summary>The exit code, once the process has ended within <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExit(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name} did not exit within {timeout.TotalSeconds:F0} s.\n{Tail()}");
        }
        return process.ExitCode;
    }

    /// <summary>SIGKILL, no goodbye: what a crashed machine looks like to the others.</summary>
    public void Kill()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        try
        {
            Kill();
        }
        catch (InvalidOperationException)
        {
        }
        process.Dispose();
    }

    /// <summary>advantage-train.dll of the same configuration as these tests.</summary>
    public static string Executable()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        string configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Advantage.slnx"))) dir = dir.Parent;
        if (dir is null) throw new InvalidOperationException("Cannot find the repository root (Advantage.slnx) above " + AppContext.BaseDirectory);
        string dll = Path.Combine(dir.FullName, "src", "Cli", "bin", configuration, "net10.0", "advantage-train.dll");
        if (!File.Exists(dll)) throw new InvalidOperationException($"Build src/Cli first: {dll} is missing.");
        return dll;
    }
}

/// <summary>Where the test-only environment assembly is built.</summary>
internal static class TestEnvironmentsAssembly
{
    /// <summary>The test-only environment assembly (tests/Advantage.TestEnvironments, registers Corridor-v0), never referenced by the CLI.</summary>
    public static string Corridor()
    {
        string train = TrainProcess.Executable();
        string configuration = train.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        string root = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(train)!, "..", "..", "..", "..", ".."));
        string dll = Path.Combine(root, "tests", "Advantage.TestEnvironments", "bin", configuration, "net10.0", "Advantage.TestEnvironments.dll");
        // No xunit here: the benchmark compiles this file too (bench hostile).
        if (!File.Exists(dll)) throw new FileNotFoundException($"Build tests/Advantage.TestEnvironments first: {dll} is missing.", dll);
        return dll;
    }
}
