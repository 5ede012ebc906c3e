namespace Advantage.Environments;

/// <summary>
/// NumPy's <c>Generator(PCG64(SeedSequence(seed)))</c>: the generator Gymnasium's <c>reset(seed=...)</c>
/// builds (<c>gymnasium.utils.seeding.np_random</c>), reproduced bit for bit so that the classic-control
/// environments start the very episode Gymnasium starts for the same seed, and a Python experiment can be
/// ported seed for seed.
/// </summary>
/// <remarks>
/// <para>
/// Three pieces, each as NumPy defines it: <c>SeedSequence</c> hashes the seed's 32-bit words into a
/// 128-bit pool and expands it into four 64-bit words; <c>PCG64</c> takes the first two as its initial
/// state and the last two as its stream (a 128-bit linear congruential generator with the XSL-RR output
/// function); <c>Generator.random()</c> keeps the top 53 bits of each output as a double in [0, 1), and
/// <c>uniform(low, high)</c> returns <c>low + (high - low) * random()</c>.
/// </para>
/// <para>
/// The classic-control environments (CartPole-v1, Acrobot-v1, MountainCar-v0, MountainCarContinuous-v0,
/// Pendulum-v1) follow Gymnasium's seeding contract with it: <c>Reset(seed)</c> reseeds as
/// <c>env.reset(seed=seed)</c> does and makes the same draws in the same order, so the first observation is
/// Gymnasium's bit for bit; <c>Reset(null)</c> draws on from the same stream, as a later unseeded
/// <c>env.reset()</c> does. One difference: before any seed Gymnasium draws fresh entropy from the
/// operating system, while these environments start from <see cref="DefaultSeed"/>, so an unseeded run
/// still repeats (the first <c>Reset(null)</c> equals <c>Reset(0)</c>, as it did before this generator).
/// </para>
/// <para>
/// Seeding and every draw allocate nothing (the 128-bit arithmetic is <see cref="UInt128"/>), so an
/// environment can reseed inside a vector environment's step. It is a class (not a struct) so an
/// environment's stream cannot be forked by an accidental copy. Not thread-safe: each environment owns one.
/// </para>
/// </remarks>
public sealed class NumPyRandom
{
    /// <summary>
    /// The seed of a generator constructed without one, so an environment nobody seeded still replays
    /// the same episodes run after run (Gymnasium would draw fresh entropy from the operating system instead).
    /// </summary>
    public const ulong DefaultSeed = 0;

    // SeedSequence's hashing constants (O'Neill's seed_seq_fe, as NumPy uses them) and its pool size.
    private const uint InitA = 0x43b0d7e5;
    private const uint MultA = 0x931e8875;
    private const uint InitB = 0x8b51f9dd;
    private const uint MultB = 0x58f38ded;
    private const uint MixMultL = 0xca01f9dd;
    private const uint MixMultR = 0x4973f715;
    private const int PoolSize = 4;

    // PCG64's 128-bit LCG multiplier.
    private static readonly UInt128 Multiplier = new(2549297995355413924UL, 4865540595714422341UL);

    private UInt128 state;
    private UInt128 increment;

    /// <summary>
    /// Creates a generator positioned where Gymnasium's <c>np_random(seed)</c> starts; without a seed,
    /// where seed <see cref="DefaultSeed"/> starts.
    /// </summary>
    public NumPyRandom(ulong seed = DefaultSeed) => Reseed(seed);

    /// <summary>
    /// Creates a generator seeded like <c>SeedSequence(entropy)</c> with a list of 32-bit words, lowest first:
    /// how NumPy reads any non-negative integer (a seed of 2^64 or more, for example, is three or more words).
    /// </summary>
    public NumPyRandom(ReadOnlySpan<uint> entropy) => Reseed(entropy);

    /// <summary>
    /// PCG64's 128-bit state, as NumPy reports it in <c>bit_generator.state["state"]["state"]</c>; exposed
    /// so a port can be checked against NumPy directly.
    /// </summary>
    public UInt128 State => state;

    /// <summary>
    /// PCG64's 128-bit increment (always odd), as NumPy reports it in <c>bit_generator.state["state"]["inc"]</c>.
    /// </summary>
    public UInt128 Increment => increment;

    /// <summary>
    /// Continues the stream from a <see cref="State"/> and <see cref="Increment"/> read earlier (of this or another
    /// generator), as NumPy's <c>bit_generator.state = ...</c> does: how an environment's saved state brings back its
    /// random stream.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="increment"/> is even (PCG64's increment is always odd).</exception>
    public void Restore(UInt128 state, UInt128 increment)
    {
        if ((increment & UInt128.One) == UInt128.Zero) throw new ArgumentException("PCG64's increment is always odd.", nameof(increment));
        this.state = state;
        this.increment = increment;
    }

    /// <summary>
    /// Restarts the stream from <paramref name="seed"/> as <c>np.random.default_rng(seed)</c> would: the
    /// integer is split into 32-bit words, lowest first (one word below 2^32, two otherwise).
    /// </summary>
    public void Reseed(ulong seed)
    {
        Span<uint> words = [(uint)seed, (uint)(seed >> 32)];
        Reseed(words[..((seed >> 32) == 0 ? 1 : 2)]);
    }

    /// <summary>
    /// Restarts the stream from <c>SeedSequence(entropy)</c>; an empty list seeds as 0 does, as in NumPy.
    /// </summary>
    public void Reseed(ReadOnlySpan<uint> entropy)
    {
        Span<ulong> words = stackalloc ulong[4];
        GenerateSeedWords(entropy, words);
        // pcg64_set_seed: the first two words are the initial state, the last two the stream, high word first.
        var initialState = new UInt128(words[0], words[1]);
        var sequence = new UInt128(words[2], words[3]);
        unchecked
        {
            increment = (sequence << 1) | 1;
            state = 0;
            Step();
            state += initialState;
            Step();
        }
    }

    /// <summary>
    /// The next 64 bits of PCG64 (advance the LCG, then XOR-fold the new state and rotate it by its top six
    /// bits); NumPy's <c>bit_generator.random_raw()</c>.
    /// </summary>
    public ulong NextUInt64()
    {
        Step();
        ulong high = (ulong)(state >> 64);
        ulong low = (ulong)state;
        return ulong.RotateRight(high ^ low, (int)(high >> 58));
    }

    /// <summary>A double uniform in [0, 1) from the top 53 bits of one output; NumPy's <c>Generator.random()</c>.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>
    /// One draw of NumPy's <c>Generator.uniform(low, high)</c>: <c>low + (high - low) * random()</c>, evaluated
    /// in that order so the double matches NumPy's bit for bit. An array-valued <c>uniform</c> (a <c>size</c>
    /// or array bounds) is these draws element by element in C order.
    /// </summary>
    public double Uniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>
    /// The NumPy seed an environment's <c>Reset(int? seed)</c> stands for: a non-negative seed is itself, a
    /// negative one is read as its 32-bit two's complement (seed + 2^32). Gymnasium refuses negative seeds;
    /// reading them this way keeps every <see cref="int"/> usable and makes <see cref="VectorEnvironment"/>'s
    /// wrapping <c>seed + k</c> land on the seed Gymnasium would be given (up to 2^32 - 1).
    /// </summary>
    public static ulong FromEnvironmentSeed(int seed) => unchecked((uint)seed);

    private void Step() => state = unchecked(state * Multiplier + increment);

    /// <summary>
    /// <c>SeedSequence(entropy).generate_state(destination.Length, np.uint64)</c>: mixes the words into a
    /// pool of four 32-bit words and expands the pool into 64-bit words (pairs of 32-bit outputs, low first).
    /// </summary>
    internal static void GenerateSeedWords(ReadOnlySpan<uint> entropy, Span<ulong> destination)
    {
        unchecked
        {
            Span<uint> pool = stackalloc uint[PoolSize];
            uint hashConstant = InitA;
            for (int i = 0; i < PoolSize; i++)
                pool[i] = HashMix(i < entropy.Length ? entropy[i] : 0u, ref hashConstant);
            // Every pool word is mixed into every other, so later words can change earlier ones.
            for (int source = 0; source < PoolSize; source++)
                for (int target = 0; target < PoolSize; target++)
                    if (source != target)
                        pool[target] = Mix(pool[target], HashMix(pool[source], ref hashConstant));
            // Entropy beyond the pool is mixed into every pool word.
            for (int source = PoolSize; source < entropy.Length; source++)
                for (int target = 0; target < PoolSize; target++)
                    pool[target] = Mix(pool[target], HashMix(entropy[source], ref hashConstant));

            hashConstant = InitB;
            for (int i = 0; i < destination.Length; i++)
            {
                ulong low = Expand(pool[(2 * i) % PoolSize], ref hashConstant);
                ulong high = Expand(pool[(2 * i + 1) % PoolSize], ref hashConstant);
                destination[i] = low | (high << 32);
            }
        }
    }

    private static uint HashMix(uint value, ref uint hashConstant)
    {
        unchecked
        {
            value ^= hashConstant;
            hashConstant *= MultA;
            value *= hashConstant;
            return value ^ (value >> 16);
        }
    }

    private static uint Mix(uint x, uint y)
    {
        unchecked
        {
            uint result = MixMultL * x - MixMultR * y;
            return result ^ (result >> 16);
        }
    }

    private static uint Expand(uint value, ref uint hashConstant)
    {
        unchecked
        {
            value ^= hashConstant;
            hashConstant *= MultB;
            value *= hashConstant;
            return value ^ (value >> 16);
        }
    }
}
