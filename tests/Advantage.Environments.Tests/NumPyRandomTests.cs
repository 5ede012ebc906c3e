namespace Advantage.Environments.Tests;

/// <summary>
/// Pins <see cref="NumPyRandom"/> to NumPy's <c>Generator(PCG64(SeedSequence(seed)))</c>, the generator
/// Gymnasium 0.29.1's <c>seeding.np_random(seed)</c> builds. Every expected value below was printed by
/// <c>Tools/numpy_pcg64_vectors.py</c> with Debian 12's NumPy 1.24.2 (Python 3.11.2, <c>/usr/bin/python3</c>);
/// each draw list starts from a freshly seeded generator.
/// </summary>
public class NumPyRandomTests
{
    public sealed record Vector(
        string Seed, uint[] Entropy, ulong[] SeedWords, UInt128 State, UInt128 Increment, ulong[] Raw, double[] Doubles,
        double[] CartPoleUniform, float[] AcrobotUniform, double MountainCarUniform, double[] PendulumUniform);

    private static UInt128 U128(ulong high, ulong low) => new(high, low);

    private static readonly Vector[] Vectors =
    [
        new("0", [0],
            [0xDB2CD7E7B0F478BE, 0xABF4641A2C71BA49, 0x20C6ED6D9D7B8D41, 0x2C4099DE223C39D4],
            U128(0x1AA1B5345996452D, 0x09585EB7A69561E3), U128(0x418DDADB3AF71A82, 0x588133BC447873A9),
            [0xA30FEBCFD9C2825F, 0x4510BDF882D9D721, 0x0A7D3DA94ECDE8B8, 0x043B27B61342F01D, 0xD0327A782CDE513B],
            [0.6369616873214543, 0.2697867137638703, 0.04097352393619469],
            [0.013696168732145436, -0.02302132862361297, -0.045902647606380534, -0.04834723644714709],
            [0.02739233709871769f, -0.046042658388614655f, -0.09180529415607452f, -0.0966944694519043f],
            -0.4726076625357092,
            [0.8605556614246863, -0.4604265724722594]),
        new("1", [1],
            [0x672D8EE56D6791FF, 0x8AE19CA14EB1072C, 0x4915796D1322FC4A, 0xD0CC2BDCABA049BD],
            U128(0x9C5B484BFEDB756C, 0x2A6E7D6F320FBC7E), U128(0x922AF2DA2645F895, 0xA19857B95740937B),
            [0x8306BDF37922E4FF, 0xF35196BBC152A866, 0x24E7A4F608EC18CD, 0xF2DAB0AED2AC6FD2, 0x4FD42FA03FCD72A9],
            [0.5118216247002567, 0.9504636963259353, 0.14415961271963373],
            [0.0011821624700256717, 0.045046369632593536, -0.03558403872803663, 0.04486494471372439],
            [0.0023643248714506626f, 0.0900927409529686f, -0.07116807997226715f, 0.08972989022731781f],
            -0.49763567505994866,
            [0.07427745862364432, 0.9009273926518706]),
        new("42", [42],
            [0x9F1E2E6DCD540AB7, 0xD57873DC79FB94B6, 0x7D282A1B64D420B7, 0x336579714692D5FF],
            U128(0xCEA44F6798798F2A, 0xACBC7C9D68860AC8), U128(0xFA505436C9A8416E, 0x66CAF2E28D25ABFF),
            [0xC621FBCD16D92688, 0x705A5661A791FFC1, 0xDBCD12C26EDA1624, 0xB286B60E1600888D, 0x181C01B5339381EB],
            [0.7739560485559633, 0.4388784397520523, 0.8585979199113825],
            [0.027395604855596334, -0.006112156024794771, 0.03585979199113824, 0.019736802905936393],
            [0.05479120835661888f, -0.01222431194037199f, 0.07171958684921265f, 0.039473604410886765f],
            -0.44520879028880733,
            [1.721316619099806, -0.12224312049589536]),
        new("2^32 - 1", [0xFFFFFFFF],
            [0x2A05C5E276C1FE08, 0x2032E40FC20E8198, 0xED4AC06D787F4396, 0x56896CB4F3DB80FD],
            U128(0x4C233832246AA48C, 0xC57A3CE19C86BA9A), U128(0xDA9580DAF0FE872C, 0xAD12D969E7B701FB),
            [0x407F5FA930D8FD9F, 0x3814B22EB9684802, 0x498B7DCEE8D8DC95, 0x9E758F03369E8515, 0xEF5CF72BB50C69E2],
            [0.2519435680449965, 0.21906579628685663, 0.28728472043517017],
            [-0.02480564319550035, -0.028093420371314338, -0.021271527956482985, 0.011898130253268316],
            [-0.04961128532886505f, -0.05618683993816376f, -0.04254305735230446f, 0.023796260356903076f],
            -0.5496112863910007,
            [-1.5585845286110707, -0.5618684074262867]),
        new("2^32", [0, 1],
            [0x50FF846CEC53F444, 0x7A4918DBE8278562, 0x3BFF9F6C362E2B19, 0xBDB177539A0654E3],
            U128(0x24D060CF1520DBDD, 0x21BBF7FBFF1AC5D4), U128(0x77FF3ED86C5C5633, 0x7B62EEA7340CA9C7),
            [0xE3C5EBE285AC1625, 0x8EA09968FE31DBCC, 0xCD084FF84D8DE9BE, 0xF4DE16EC3A8B9986, 0x0F016733E42AEB52],
            [0.8897387912781343, 0.5571380502062263, 0.8009080868919721],
            [0.03897387912781343, 0.005713805020622631, 0.03009080868919721, 0.04565138174753386],
            [0.07794775813817978f, 0.01142761018127203f, 0.060181617736816406f, 0.09130275994539261f],
            -0.42205224174437317,
            [2.4488010469967048, 0.11427610041245262]),
        new("12345678901234567890", [3944680146, 2874452364],
            [0x3ADCE17E346514AC, 0x59E9BCC388FA7613, 0xF848C11A70FD2314, 0x2FCE4134A50BADC2],
            U128(0xF9BDCDE236D2ECD8, 0x34D22711BA6CE97D), U128(0xF0918234E1FA4628, 0x5F9C82694A175B85),
            [0x0114E1B88D306508, 0xA700042781D3A29C, 0x9B9E0E7DC8C7370C, 0xFBFB6A4BD0542DA2, 0x8F0FF8EDA273211C],
            [0.004224879795573511, 0.6523439976170509, 0.6078805024233389],
            [-0.04957751202044265, 0.015234399761705084, 0.01078805024233389, 0.04843050417988058],
            [-0.09915502369403839f, 0.03046879917383194f, 0.02157610096037388f, 0.09686100482940674f],
            -0.5991550240408853,
            [-3.1150469509336456, 0.3046879952341017]),
        new("2^64 - 1", [0xFFFFFFFF, 0xFFFFFFFF],
            [0xAEBCA151928CAD0D, 0x119C30448638DC7A, 0x1BBB155659E642A7, 0xA76B11E3E8C4A8F6],
            U128(0xDDC419442AEBDE79, 0x4D8B0A3B048ACDB0), U128(0x37762AACB3CC854F, 0x4ED623C7D18951ED),
            [0xAE163A7A8C47568F, 0xD86659F5F3382359, 0x01E52B195BC2D24A, 0xE5026AAF19A22DB1, 0x2103DD989ACFF71C],
            [0.6800266789616931, 0.8453117585624743, 0.007403081599260064],
            [0.018002667896169305, 0.03453117585624743, -0.049259691840074, 0.039456812643914735],
            [0.03600533679127693f, 0.06906235218048096f, -0.09851938486099243f, 0.0789136216044426f],
            -0.4639946642076614,
            [1.131140984152447, 0.6906235171249486]),
        // Five entropy words: more than the pool of four, so the final mixing loop runs too.
        new("2^130 + 2^96 + 7", [7, 0, 0, 1, 4],
            [0x9A8CD54E7AA4FC54, 0xB54FC4B3DA324D3E, 0x0996E1245B765676, 0xC0A9D225D462307E],
            U128(0x4500190292CE3227, 0xA0007FD87CB208E4), U128(0x132DC248B6ECACED, 0x8153A44BA8C460FD),
            [0x7D2AC6A45A801429, 0x09683B85C1681A1B, 0x07AE5E42F46C0242, 0x6CB5D47DA7E1C09B, 0xC9F4AC9C542F888F],
            [0.4889339591268256, 0.03674671187891965, 0.030004397722606768],
            [-0.001106604087317442, -0.04632532881210804, -0.04699956022773932, -0.007535049373847705],
            [-0.0022132082376629114f, -0.09265065938234329f, -0.09399911761283875f, -0.015070098452270031f],
            -0.5022132081746349,
            [-0.0695299854229785, -0.9265065762421607]),
    ];

    public static TheoryData<int> Indices()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < Vectors.Length; i++) data.Add(i);
        return data;
    }

    [Theory]
    [MemberData(nameof(Indices))]
    public void SeedSequenceWordsMatchNumPy(int index)
    {
        Vector v = Vectors[index];
        var words = new ulong[4];
        NumPyRandom.GenerateSeedWords(v.Entropy, words);
        Assert.Equal(v.SeedWords, words);
    }

    [Theory]
    [MemberData(nameof(Indices))]
    public void StateAfterSeedingMatchesNumPy(int index)
    {
        Vector v = Vectors[index];
        var rng = new NumPyRandom(v.Entropy);
        Assert.Equal(v.State, rng.State);
        Assert.Equal(v.Increment, rng.Increment);
    }

    [Theory]
    [MemberData(nameof(Indices))]
    public void DrawsMatchNumPyBitForBit(int index)
    {
        Vector v = Vectors[index];
        var rng = new NumPyRandom(v.Entropy);
        foreach (ulong expected in v.Raw) Assert.Equal(expected, rng.NextUInt64());

        rng = new NumPyRandom(v.Entropy);
        foreach (double expected in v.Doubles) AssertBits(expected, rng.NextDouble());

        rng = new NumPyRandom(v.Entropy);
        foreach (double expected in v.CartPoleUniform) AssertBits(expected, rng.Uniform(-0.05, 0.05));

        rng = new NumPyRandom(v.Entropy);
        foreach (float expected in v.AcrobotUniform) Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits((float)rng.Uniform(-0.1, 0.1)));

        rng = new NumPyRandom(v.Entropy);
        AssertBits(v.MountainCarUniform, rng.Uniform(-0.6, -0.4));

        rng = new NumPyRandom(v.Entropy);
        AssertBits(v.PendulumUniform[0], rng.Uniform(-Math.PI, Math.PI));
        AssertBits(v.PendulumUniform[1], rng.Uniform(-1.0, 1.0));
    }

    [Theory]
    [InlineData(0UL, new uint[] { 0 })]
    [InlineData(42UL, new uint[] { 42 })]
    [InlineData(0xFFFFFFFFUL, new uint[] { 0xFFFFFFFF })]
    [InlineData(0x1_0000_0000UL, new uint[] { 0, 1 })]
    [InlineData(12345678901234567890UL, new uint[] { 3944680146, 2874452364 })]
    public void IntegerSeedIsSplitIntoWordsAsNumPyDoes(ulong seed, uint[] entropy)
    {
        // NumPy breaks a non-negative integer into 32-bit words, lowest first, with no zero padding.
        var fromInteger = new NumPyRandom(seed);
        var fromWords = new NumPyRandom(entropy);
        Assert.Equal(fromWords.State, fromInteger.State);
        Assert.Equal(fromWords.Increment, fromInteger.Increment);
    }

    [Fact]
    public void ReseedRestartsTheStreamAndDefaultIsSeedZero()
    {
        var rng = new NumPyRandom();
        Assert.Equal(0xA30FEBCFD9C2825FUL, rng.NextUInt64());
        rng.Reseed(1);
        Assert.Equal(0x8306BDF37922E4FFUL, rng.NextUInt64());
        Assert.Equal(0xF35196BBC152A866UL, rng.NextUInt64());
        rng.Reseed(1);
        Assert.Equal(0x8306BDF37922E4FFUL, rng.NextUInt64());
    }

    [Fact]
    public void EmptyEntropyIsSeedZeroAsInNumPy()
    {
        // SeedSequence([]) pads the pool with hashed zeros, exactly as SeedSequence(0) does
        // (checked: both give generate_state(4, uint64)[0] = 0xDB2CD7E7B0F478BE).
        var rng = new NumPyRandom(ReadOnlySpan<uint>.Empty);
        Assert.Equal(new NumPyRandom(0).State, rng.State);
        Assert.Equal(0xA30FEBCFD9C2825FUL, rng.NextUInt64());
    }

    [Fact]
    public void ReseedingAndDrawingAllocateNothing()
    {
        var rng = new NumPyRandom(3);
        double sink = 0;
        for (int i = 0; i < 100; i++) { rng.Reseed((ulong)i); sink += rng.Uniform(-1, 1); }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1_000; i++)
        {
            rng.Reseed((ulong)i * 0x1_0000_0001UL);
            sink += rng.Uniform(-1, 1) + rng.NextUInt64();
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(sink != 0);
    }

    private static void AssertBits(double expected, double actual) =>
        Assert.True(BitConverter.DoubleToInt64Bits(expected) == BitConverter.DoubleToInt64Bits(actual),
            $"expected {expected:R}, got {actual:R}");
}
