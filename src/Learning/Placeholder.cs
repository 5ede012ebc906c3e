namespace Advantage.Learning;
