using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Configuration;

namespace Advantage.Bench;

/// <summary>Where and when a measurement was taken, stored with every JSON result.</summary>
public sealed record MachineInfo(string Timestamp, string Commit, int ProcessorCount, string LoadAverageBefore, string Runtime, string Os)
{
    public static MachineInfo Capture() => new(
        DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        GitCommit(),
        Environment.ProcessorCount,
        LoadAverage(),
        System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
        System.Runtime.InteropServices.RuntimeInformation.OSDescription);

    /// <summary>The 1, 5 and 15 minute load averages (Linux), to judge how quiet the machine was.</summary>
    public static string LoadAverage()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return string.Join(" ", parts.Take(3));
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static string GitCommit()
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", "rev-parse --short HEAD")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (git is null) return "";
            string output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? output : "";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "";
        }
    }
}

internal static class Report
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    public static void Write<T>(string path, T value)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        File.WriteAllText(path, JsonSerializer.Serialize(value, Json) + Environment.NewLine);
        Console.WriteLine($"Wrote {path}");
    }

    public static double Round(double value, int digits) => double.IsFinite(value) ? Math.Round(value, digits) : value;

    /// <summary>A quiet actor system like the Train sample's (one per run, so runs never share dispatcher threads).</summary>
    public static ActorSystem NewSystem(string name) =>
        ActorSystem.Create(name, ConfigurationFactory.ParseString("akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING"));

    public static void Shutdown(ActorSystem system)
    {
        system.Terminate().Wait(TimeSpan.FromSeconds(10));
        system.Dispose();
    }
}
