using System.Diagnostics;
using System.Text;

namespace Advantage.Onnx.Tests;

/// <summary>Child processes: the repository's <c>advantage-train</c>, and <c>dotnet</c> for apps built outside the repository.</summary>
internal static class Cli
{
    public static string RepositoryRoot { get; } = FindRoot();

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Advantage.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (Advantage.slnx) above " + AppContext.BaseDirectory);
    }

    /// <summary>advantage-train's assembly (src/Cli), built beside this project (it is a project reference).</summary>
    public static string Train
    {
        get
        {
            string configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
            string dll = Path.Combine(RepositoryRoot, "src", "Cli", "bin", configuration, "net10.0", "advantage-train.dll");
            return File.Exists(dll) ? dll : throw new InvalidOperationException($"Build src/Cli first: {dll} is missing.");
        }
    }

    /// <summary>Runs <c>advantage-train ARGS</c>; returns the exit code and stdout + stderr.</summary>
    public static (int ExitCode, string Output) RunTrain(IEnumerable<string> arguments, TimeSpan timeout) =>
        Run("dotnet", [Train, .. arguments], Directory.GetCurrentDirectory(), timeout);

    /// <summary>Runs a command with a timeout (killed past it, and the test fails), capturing stdout and stderr.</summary>
    public static (int ExitCode, string Output) Run(string fileName, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments) info.ArgumentList.Add(argument);
        // The test host runs under `dotnet test`: MSBuild's variables from that build must not steer a child's build.
        foreach (string key in info.Environment.Keys.ToList())
            if (key.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)) info.Environment.Remove(key);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        info.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        info.Environment["UseSharedCompilation"] = "false";
        var output = new StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"{fileName} {string.Join(' ', info.ArgumentList)} ran longer than {timeout.TotalSeconds:F0} s:\n{output}");
        }
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }
}
