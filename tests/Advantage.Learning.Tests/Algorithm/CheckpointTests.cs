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
}
