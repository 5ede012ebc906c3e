using Advantage.Learning.Networks;

namespace Advantage.Learning.Tests.Algorithm;

public class CheckpointTests
{
    [Fact]
    public void A_checkpoint_round_trips_and_a_corrupt_or_foreign_file_is_refused()
    {
        string dir = Path.Combine(Path.GetTempPath(), "advantage-ckpt-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "model.ckpt");
            var spec = new NetworkSpec(4, [8, 8], 2, false);
            var checkpoint = new Checkpoint(spec, [1f, -2.5f, 3e-7f], new Dictionary<string, string> { ["steps"] = "42" });
            checkpoint.Save(path);
            var loaded = Checkpoint.Load(path);
            Assert.Equal(spec, loaded.Spec);
            Assert.Equal(checkpoint.Parameters, loaded.Parameters);
            Assert.Equal("42", loaded.Metadata["steps"]);
            Assert.Empty(Directory.GetFiles(dir, "*.tmp*"));

            byte[] bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..^2]);
            Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path)).Message);
            File.WriteAllText(path, "not a checkpoint at all");
            Assert.Contains("not an Advantage checkpoint", Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path)).Message);
            bytes[8] = 99;
            File.WriteAllBytes(path, bytes);
            Assert.Contains("format 99", Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path)).Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
    [Fact]
    public void Separate_networks_are_recorded_and_a_checkpoint_written_before_the_option_loads_as_shared()
    {
        string dir = Path.Combine(Path.GetTempPath(), "advantage-ckpt-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "model.ckpt");
            var separate = new NetworkSpec(4, [8], 2, false, SeparateNetworks: true);
            using (var network = new ActorCriticNetwork(separate))
                new Checkpoint(separate, new ParameterVector(network).Read(), new Dictionary<string, string>()).Save(path);
            Assert.True(Checkpoint.Load(path).Spec.SeparateNetworks);

            // The header of a checkpoint from before the option: the same JSON without the field.
            var shared = separate with { SeparateNetworks = false };
            using (var network = new ActorCriticNetwork(shared))
                new Checkpoint(shared, new ParameterVector(network).Read(), new Dictionary<string, string>()).Save(path);
            File.WriteAllBytes(path, WithoutHeaderField(File.ReadAllBytes(path), ",\"SeparateNetworks\":false"));
            var old = Checkpoint.Load(path);
            Assert.False(old.Spec.SeparateNetworks);
            Assert.Equal(shared, old.Spec);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The file with <paramref name="field"/> cut from its JSON header, the header length and the CRC-32 redone.</summary>
    private static byte[] WithoutHeaderField(byte[] bytes, string field)
    {
        int start = Array.IndexOf(bytes, (byte)'{');
        int length = BitConverter.ToInt32(bytes, start - 4);
        string json = System.Text.Encoding.UTF8.GetString(bytes, start, length);
        Assert.Contains(field, json);
        byte[] cut = System.Text.Encoding.UTF8.GetBytes(json.Replace(field, "", StringComparison.Ordinal));
        var result = new List<byte>(bytes[..(start - 4)]);
        result.AddRange(BitConverter.GetBytes(cut.Length));
        result.AddRange(cut);
        result.AddRange(bytes[(start + length)..^4]);
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in result)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        result.AddRange(BitConverter.GetBytes(crc ^ 0xFFFFFFFFu));
        return result.ToArray();
    }

    [Theory]
    [InlineData("a2c", typeof(A2COptions))]
    [InlineData("ppo", typeof(PpoOptions))]
    [InlineData("impala", typeof(ImpalaOptions))]
    public void Checkpoints_written_before_the_algorithm_registry_still_load_with_their_options(string algorithm, Type options)
    {
        // Data/format3-*.ckpt: last.ckpt of a 64-step run of each algorithm, written by the build before the registry (fixed
        // [JsonDerivedType] attributes); the registry's resolver must read the same "algorithm" discriminator.
        var checkpoint = Checkpoint.Load(Path.Combine(AppContext.BaseDirectory, "Data", $"format3-{algorithm}.ckpt"));
        Assert.Equal(algorithm, checkpoint.Algorithm);
        Assert.IsType(options, checkpoint.Options);
        Assert.True(checkpoint.CanResume);
        Assert.Equal([4], checkpoint.Options!.HiddenSizes);
        Assert.Equal(4, checkpoint.Options.RolloutLength);
        Assert.Empty(checkpoint.Options.Problems());

        // And it writes them back the same way.
        string path = Path.Combine(Path.GetTempPath(), $"advantage-format3-{Guid.NewGuid():N}.ckpt");
        try
        {
            checkpoint.Save(path);
            Assert.Equal(checkpoint.Options, Checkpoint.Load(path).Options! with { HiddenSizes = checkpoint.Options.HiddenSizes });
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_checkpoint_of_an_algorithm_not_registered_here_is_refused_in_one_line_naming_it()
    {
        // PPO's fixture with its algorithm renamed to one no test registers (same length, checksum redone).
        byte[] bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Data", "format3-ppo.ckpt"));
        string text = System.Text.Encoding.Latin1.GetString(bytes).Replace("\"algorithm\":\"ppo\"", "\"algorithm\":\"qqq\"", StringComparison.Ordinal);
        bytes = System.Text.Encoding.Latin1.GetBytes(text);
        BitConverter.GetBytes(Crc32.Compute(bytes.AsSpan(0, bytes.Length - 4))).CopyTo(bytes, bytes.Length - 4);
        string path = Path.Combine(Path.GetTempPath(), $"advantage-qqq-{Guid.NewGuid():N}.ckpt");
        try
        {
            File.WriteAllBytes(path, bytes);
            var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));
            Assert.Equal($"'{path}': algorithm 'qqq' is not registered in this process (registered: {string.Join(", ", Algorithms.Names)}); " +
                "register it with Algorithms.Register first.", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
