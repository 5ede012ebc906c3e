namespace Advantage.Environments;

/// <summary>
/// MinAtar's Breakout (Young and Tian, 2019; <c>minatar/environments/breakout.py</c>) with the minimal
/// action set, as the Gymnasium id <c>MinAtar/Breakout-v1</c>: a 10x10 Atari-like game small enough
/// to train a convolutional A2C agent in minutes on a CPU, which is why it is our first pixel task.
/// </summary>
/// <remarks>
/// <para>
/// Rules (MinAtar's): the ball starts on row 3 in column 0 moving down-right or in column 9 moving
/// down-left (one fair coin), the paddle in column 4 of row 9, bricks fill rows 1-3. The ball moves one
/// cell diagonally per step and reflects off the side walls and the ceiling. Hitting a brick removes it,
/// pays +1 and reflects the ball vertically (the ball stays on its row that step); a brick entered on
/// the step right after a strike is passed through, as in MinAtar. On reaching row 9 the ball bounces
/// straight back if the paddle was under its previous column, diagonally back if the paddle is under
/// its new column, and otherwise the episode terminates. When every brick is gone, a new wall of three
/// rows appears the next time the ball reaches row 9. There is no difficulty ramp.
/// </para>
/// <para>
/// Sticky actions: before every step one uniform draw decides whether the previous executed action
/// repeats instead of the chosen one (probability <see cref="MinAtarOptions.StickyActionProbability"/>,
/// default 0.1), exactly as MinAtar's <c>Environment.act</c>.
/// </para>
/// <para>
/// Differences from MinAtar, all deliberate (see docs/minatar.md):
/// the observation is channel-major float32 <c>[4, 10, 10]</c> (MinAtar: <c>[10, 10, 4]</c> booleans),
/// so it feeds a convolution without a transpose; randomness comes from its own <see cref="SeededRandom"/>,
/// so a seed gives different (but reproducible) episodes than MinAtar's NumPy <c>RandomState</c>. Unlike the
/// classic-control environments it does not use <see cref="NumPyRandom"/>: MinAtar is not seeded through
/// Gymnasium's <c>np_random</c>, so there is no Gymnasium episode for a seed to reproduce; the remembered sticky action is
/// cleared to no-op on every reset (MinAtar keeps it across episodes), so a seeded reset alone
/// determines the episode; and <see cref="IEnvironment.Step"/> before the first reset throws, as the
/// other environments here. Stepping after termination changes nothing and reports reward 0 and
/// <c>Terminated</c> again, as MinAtar. The class has no episode limit (as MinAtar); the registry wraps
/// it in a generous <see cref="TimeLimit"/> of <see cref="RegisteredStepLimit"/> steps. A step allocates
/// nothing.
/// </para>
/// </remarks>
public sealed class MinAtarBreakout : IStatefulEnvironment, IResumableEnvironment
{
    /// <summary>The side of the square grid.</summary>
    public const int Size = 10;

    /// <summary>Channel of the paddle in the observation.</summary>
    public const int PaddleChannel = 0;

    /// <summary>Channel of the ball in the observation.</summary>
    public const int BallChannel = 1;

    /// <summary>Channel of the ball's previous cell, which is how the observation shows the ball's direction.</summary>
    public const int TrailChannel = 2;

    /// <summary>Channel of the bricks in the observation.</summary>
    public const int BrickChannel = 3;

    /// <summary>The number of observation channels.</summary>
    public const int Channels = 4;

    /// <summary>Action index of no-op (MinAtar's 'n').</summary>
    public const int NoOp = 0;

    /// <summary>Action index of moving the paddle left (MinAtar's 'l').</summary>
    public const int Left = 1;

    /// <summary>Action index of moving the paddle right (MinAtar's 'r').</summary>
    public const int Right = 2;

    /// <summary>
    /// The number of doubles in <see cref="GetState"/>: ball x, ball y, ball direction, paddle x, trail x,
    /// trail y, strike flag, terminal flag, last executed action, then the 100 brick cells row-major.
    /// </summary>
    public const int StateLength = 9 + Size * Size;

    /// <summary>
    /// The step limit <c>MinAtar/Breakout-v1</c> is registered with in <see cref="EnvironmentRegistry.Builtin"/>.
    /// MinAtar registers none; this one only cuts episodes that would otherwise never end (a policy can
    /// keep the ball looping past unreachable bricks), so returns stay comparable with published ones.
    /// </summary>
    public const int RegisteredStepLimit = 10_000;

    private const int CellsPerChannel = Size * Size;
    private const int FirstBrickRow = 1;
    private const int LastBrickRow = 3;
    private const int StartRow = 3;
    private const int PaddleStart = 4;

    // Directions as in MinAtar: 0 up-left, 1 up-right, 2 down-right, 3 down-left.
    private const int UpLeft = 0, UpRight = 1, DownRight = 2, DownLeft = 3;

    private static readonly Discrete Actions = new(3);
    private static readonly Box Observations = Box.Uniform([Channels, Size, Size], 0f, 1f);

    private readonly SeededRandom random = new();
    private readonly float[] bricks = new float[CellsPerChannel];
    private readonly double stickyProbability;
    private int brickCount;
    private int ballX, ballY, ballDirection, paddle, trailX, trailY, lastAction;
    private bool strike, terminal, started;

    /// <summary>Creates the game with MinAtar's default settings (sticky actions with probability 0.1).</summary>
    public MinAtarBreakout()
        : this(MinAtarOptions.Default)
    {
    }

    /// <summary>Creates the game with the given settings, for example without sticky actions.</summary>
    public MinAtarBreakout(MinAtarOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        stickyProbability = options.StickyActionProbability;
    }

    /// <summary>The settings this game was created with, so a copy can be made for another slot.</summary>
    public MinAtarOptions Options { get; }

    /// <inheritdoc />
    /// <remarks><c>Box([4, 10, 10], 0, 1)</c>: channels paddle, ball, trail, brick; each cell 0 or 1.</remarks>
    public Space ObservationSpace => Observations;

    /// <inheritdoc />
    /// <remarks><c>Discrete(3)</c>: MinAtar's minimal set for Breakout, 0 no-op, 1 left, 2 right.</remarks>
    public Space ActionSpace => Actions;

    /// <inheritdoc />
    public int StateSize => StateLength;

    /// <summary>The number of bricks left; lets callers and tests see progress without decoding an observation.</summary>
    public int BricksLeft => brickCount;

    /// <inheritdoc />
    public void Reset(int? seed, Span<float> observation)
    {
        Guard.Observation(observation, Observations);
        if (seed is int s) random.Reseed(s);
        bool fromRight = random.Next(2) == 1;
        ballY = StartRow;
        ballX = fromRight ? Size - 1 : 0;
        ballDirection = fromRight ? DownLeft : DownRight;
        paddle = PaddleStart;
        FillBrickWall();
        strike = false;
        trailX = ballX;
        trailY = ballY;
        terminal = false;
        lastAction = NoOp;
        started = true;
        WriteObservation(observation);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">The action is not 0, 1 or 2.</exception>
    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        int chosen = Guard.DiscreteAction(action, Actions);
        Guard.Observation(observation, Observations);
        Guard.Started(started, nameof(MinAtarBreakout));

        // MinAtar draws on every step, whatever the probability, so the stream does not depend on it.
        int executed = random.NextDouble() < stickyProbability ? lastAction : chosen;
        lastAction = executed;
        double reward = terminal ? 0.0 : Advance(executed);
        WriteObservation(observation);
        return new StepResult(reward, terminal, false);
    }

    /// <summary>One tick of MinAtar's <c>Env.act</c> for a game that has not terminated; returns the reward.</summary>
    private double Advance(int executed)
    {
        if (executed == Left) paddle = Math.Max(0, paddle - 1);
        else if (executed == Right) paddle = Math.Min(Size - 1, paddle + 1);

        trailX = ballX;
        trailY = ballY;
        int newX = ballX + (ballDirection is UpRight or DownRight ? 1 : -1);
        int newY = ballY + (ballDirection is DownRight or DownLeft ? 1 : -1);

        double reward = 0.0;
        bool struckThisStep = false;
        if (newX < 0 || newX > Size - 1)
        {
            newX = Math.Clamp(newX, 0, Size - 1);
            ballDirection = FlipHorizontal(ballDirection);
        }
        if (newY < 0)
        {
            newY = 0;
            ballDirection = FlipVertical(ballDirection);
        }
        else if (bricks[newY * Size + newX] != 0f)
        {
            struckThisStep = true;
            if (!strike)
            {
                reward = 1.0;
                strike = true;
                bricks[newY * Size + newX] = 0f;
                brickCount--;
                newY = trailY;
                ballDirection = FlipVertical(ballDirection);
            }
        }
        else if (newY == Size - 1)
        {
            if (brickCount == 0) FillBrickWall();
            if (ballX == paddle)
            {
                ballDirection = FlipVertical(ballDirection);
                newY = trailY;
            }
            else if (newX == paddle)
            {
                ballDirection = FlipBoth(ballDirection);
                newY = trailY;
            }
            else
            {
                terminal = true;
            }
        }
        if (!struckThisStep) strike = false;

        ballX = newX;
        ballY = newY;
        return reward;
    }

    // MinAtar's lookup tables [1,0,3,2], [3,2,1,0] and [2,3,0,1].
    private static int FlipHorizontal(int direction) => direction ^ 1;

    private static int FlipVertical(int direction) => 3 - direction;

    private static int FlipBoth(int direction) => direction ^ 2;

    private void FillBrickWall()
    {
        Array.Clear(bricks);
        bricks.AsSpan(FirstBrickRow * Size, (LastBrickRow - FirstBrickRow + 1) * Size).Fill(1f);
        brickCount = (LastBrickRow - FirstBrickRow + 1) * Size;
    }

    /// <inheritdoc />
    /// <remarks>Order: see <see cref="StateLength"/>. Flags are 0 or 1; directions as MinAtar's (0 up-left, 1 up-right, 2 down-right, 3 down-left).</remarks>
    public double[] GetState()
    {
        var state = new double[StateLength];
        state[0] = ballX;
        state[1] = ballY;
        state[2] = ballDirection;
        state[3] = paddle;
        state[4] = trailX;
        state[5] = trailY;
        state[6] = strike ? 1 : 0;
        state[7] = terminal ? 1 : 0;
        state[8] = lastAction;
        for (int i = 0; i < CellsPerChannel; i++) state[9 + i] = bricks[i];
        return state;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Order: see <see cref="StateLength"/>. Every value must be a whole number in its range, and a
    /// running game's ball must be above row 9 (it only reaches row 9 when the episode ends), so an
    /// impossible state is rejected here rather than failing later inside a step.
    /// </remarks>
    /// <exception cref="ArgumentException">The span has the wrong length or holds an impossible state.</exception>
    public void SetState(ReadOnlySpan<double> state)
    {
        Guard.State(state, StateLength);
        int x = Cell(state, 0, Size - 1, "ball x");
        int y = Cell(state, 1, Size - 1, "ball y");
        int direction = Cell(state, 2, 3, "ball direction");
        int pad = Cell(state, 3, Size - 1, "paddle x");
        int tx = Cell(state, 4, Size - 1, "trail x");
        int ty = Cell(state, 5, Size - 1, "trail y");
        bool isStrike = Cell(state, 6, 1, "strike flag") == 1;
        bool isTerminal = Cell(state, 7, 1, "terminal flag") == 1;
        int last = Cell(state, 8, Actions.N - 1, "last action");
        if (!isTerminal && y == Size - 1)
            throw new ArgumentException("A running game's ball cannot be on row 9; set the terminal flag.", nameof(state));
        int count = 0;
        for (int i = 0; i < CellsPerChannel; i++)
        {
            int brick = Cell(state, 9 + i, 1, "brick cell");
            if (brick == 1 && i / Size == Size - 1)
                throw new ArgumentException("Row 9 is the paddle's row and cannot hold bricks.", nameof(state));
            count += brick;
        }

        for (int i = 0; i < CellsPerChannel; i++) bricks[i] = (float)state[9 + i];
        brickCount = count;
        (ballX, ballY, ballDirection, paddle, trailX, trailY) = (x, y, direction, pad, tx, ty);
        (strike, terminal, lastAction) = (isStrike, isTerminal, last);
        started = true;
    }

    private static int Cell(ReadOnlySpan<double> state, int index, int max, string name)
    {
        double v = state[index];
        if (!(v >= 0 && v <= max) || v != Math.Floor(v))
            throw new ArgumentException($"State[{index}] ({name}) must be a whole number in [0, {max}]; got {v}.", nameof(state));
        return (int)v;
    }

    /// <inheritdoc />
    public void WriteObservation(Span<float> observation)
    {
        Guard.Observation(observation, Observations);
        observation.Clear();
        observation[PaddleChannel * CellsPerChannel + (Size - 1) * Size + paddle] = 1f;
        observation[BallChannel * CellsPerChannel + ballY * Size + ballX] = 1f;
        observation[TrailChannel * CellsPerChannel + trailY * Size + trailX] = 1f;
        bricks.CopyTo(observation.Slice(BrickChannel * CellsPerChannel, CellsPerChannel));
    }

    /// <inheritdoc />
    public bool CanSave => true;

    /// <inheritdoc />
    public byte[] Save() => SavedState.Write(nameof(MinAtarBreakout), w =>
    {
        w.WriteDoubles(GetState());
        w.Write(started);
        w.Write(random.State);
    });

    /// <inheritdoc />
    public void Restore(ReadOnlySpan<byte> saved) => SavedState.Read(saved, nameof(MinAtarBreakout), r =>
    {
        double[] state = r.ReadDoubles();
        bool wasStarted = r.ReadBoolean();
        ulong stream = r.ReadUInt64();
        SetState(state);
        started = wasStarted;
        random.Restore(stream);
    });
}
