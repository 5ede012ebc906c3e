using System.Diagnostics;
using System.Text;

namespace Advantage.Packaging.Tests;

/// <summary>The outcome of one child process: its exit code (null when it was killed at the timeout) and its output.</summary>
internal sealed record ChildResult(string Command, int? ExitCode, string Output, TimeSpan Elapsed)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>What a failed assertion shows: the command, how it ended, and the last lines of its output.</summary>
    public string Describe(int lastLines = 200)
    {
        string[] lines = Output.Split('\n');
        string tail = string.Join('\n', lines.Skip(Math.Max(0, lines.Length - lastLines)));
        string ending = ExitCode is { } code ? $"exit code {code}" : "killed at the timeout";
        return $"`{Command}` ended with {ending} after {Elapsed.TotalSeconds:F0} s. "
            + $"Last {Math.Min(lines.Length, lastLines)} of {lines.Length} output lines:\n{tail}";
    }
}

/// <summary>Runs a command with a timeout, capturing stdout and stderr interleaved.</summary>
internal static class ChildProcess
{
    /// <summary>The dotnet host that runs these tests (the CLI says which), else the one on PATH.</summary>
    public static string Dotnet { get; } =
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    public static ChildResult Run(string fileName, IReadOnlyList<string> arguments, string workingDirectory,
        TimeSpan timeout, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments) info.ArgumentList.Add(argument);

        // The test host runs under `dotnet test`: MSBuild's variables from that build must not steer the child's.
        foreach (string key in info.Environment.Keys.ToList())
        {
            if (key.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)) info.Environment.Remove(key);
        }
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        // No build server outlives the child (and holds its output pipe open).
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        info.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        info.Environment["UseSharedCompilation"] = "false";
        if (environment is not null)
        {
            foreach (var (key, value) in environment) info.Environment[key] = value;
        }

        string command = fileName + " " + string.Join(' ', arguments);
        var output = new StringBuilder();
        using var stdoutClosed = new ManualResetEventSlim();
        using var stderrClosed = new ManualResetEventSlim();
        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(e.Data, stdoutClosed);
        process.ErrorDataReceived += (_, e) => Append(e.Data, stderrClosed);
        process.Start();
        // Builds started here (nice 19) yield to the other test assemblies that `dotnet test` runs beside this
        // one, some of which time their actors.
        try { process.PriorityClass = ProcessPriorityClass.Idle; }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { }
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        int? exitCode = null;
        if (process.WaitForExit(timeout))
        {
            exitCode = process.ExitCode;
        }
        else
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            process.WaitForExit(TimeSpan.FromSeconds(30));
        }
        // Let the last lines arrive; a grandchild that keeps the pipe open must not hang the test.
        stdoutClosed.Wait(TimeSpan.FromSeconds(30));
        stderrClosed.Wait(TimeSpan.FromSeconds(30));
        lock (output) return new ChildResult(command, exitCode, output.ToString(), clock.Elapsed);

        void Append(string? line, ManualResetEventSlim closed)
        {
            if (line is null) { closed.Set(); return; }
            lock (output) output.Append(line).Append('\n');
        }
    }
}
