"""The live training plot: every event recorded, redraws throttled, metrics become curves."""

import pytest

from cormorant_lab.viz import TrainingPlot


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_throttled_redraws():
    clock = FakeClock()
    plot = TrainingPlot(min_interval=1.0, clock=clock)
    plot({"epoch": 0, "step": 0, "loss": 4.0})  # the first event draws
    assert plot.redraws == 1 and list(plot.figure.data[0].y) == [4.0]
    for step in range(1, 50):
        clock.now += 0.01
        plot({"epoch": 0, "step": step, "loss": 4.0 / (step + 1)})
    assert plot.redraws == 1  # 0.49 s passed: no redraw
    assert len(plot.history["loss"]) == 1 and len(plot.figure.data[0].y) == 1
    clock.now += 1.0
    plot({"epoch": 1, "step": 50, "loss": 0.05, "valid_mae": 0.3})
    assert plot.redraws == 2
    names = [trace.name for trace in plot.figure.data]
    assert names == ["loss", "valid_mae"] and len(plot.figure.data[0].y) == 51  # nothing was lost
    assert plot.history["loss"][-2] == (49.0, 4.0 / 50)


def test_final_event_and_flush():
    clock = FakeClock()
    plot = TrainingPlot(min_interval=100.0, clock=clock, x="epoch", log_y=False)
    plot({"epoch": 0, "step": 0, "loss": 1.0})
    plot({"epoch": 1, "step": 10, "loss": 0.5, "lr": 1e-3, "note": "ignored", "flag": True})
    assert plot.redraws == 1
    plot.flush()
    assert plot.redraws == 2 and list(plot.figure.data[0].x) == [0.0, 1.0]
    assert "note" not in plot.history and "flag" not in plot.history
    plot.flush()
    assert plot.redraws == 2  # nothing new: no redraw
    plot({"epoch": 2, "step": 20, "loss": 0.25, "final": True})
    assert plot.redraws == 3 and plot.figure.layout.yaxis.type == "linear"


def test_bad_events():
    plot = TrainingPlot()
    with pytest.raises(KeyError):
        plot({"epoch": 0, "step": 0})
    with pytest.raises(ValueError):
        TrainingPlot(x="time")


def test_trainer_events():
    train = pytest.importorskip("cormorant_lab.train")
    torch = pytest.importorskip("torch")
    clock = FakeClock()
    plot = TrainingPlot(min_interval=1.0, clock=clock)
    for step in range(1, 6):
        clock.now += 0.1
        plot(train.TrainEvent("step", 0, step, 1e-3, torch.tensor(1.0 / step)))
        plot(train.TrainEvent("log", 0, step, 1e-3, 1.0 / step))  # repeats the step loss: ignored
    assert plot.redraws == 1 and [p[0] for p in plot.history["loss"]] == [1.0]
    metrics = {"epoch": 1, "step": 5, "train_loss": 0.4, "valid_loss": 0.5, "valid_energy_mae": 2.5}
    plot(train.TrainEvent("epoch", 1, 5, 1e-3, 0.4, metrics))
    plot(train.TrainEvent("end", 1, 5, 1e-3))
    assert plot.redraws == 2
    assert [p for p in plot.history["loss"]] == [(float(s), pytest.approx(1.0 / s)) for s in range(1, 6)]
    assert {trace.name for trace in plot.figure.data} == {"loss", "train_loss", "valid_loss", "valid_energy_mae"}


def test_panels_keep_units_apart_and_the_first_point_shows():
    plot = TrainingPlot(
        min_interval=0.0, panels={"energy": "energy error (kcal/mol)", "forces": "force error (kcal/mol/Å)"}
    )
    plot({"epoch": 0, "step": 1, "loss": 2.0})
    assert "markers" in plot.figure.data[0].mode  # one point of a line-only trace would draw nothing
    plot({"epoch": 1, "step": 2, "loss": 1.0, "valid_loss": 1.5, "valid_energy_mae": 3.0, "valid_forces_mae": 9.0})
    axes = {trace.name: trace.yaxis for trace in plot.figure.data}
    assert axes["loss"] == axes["valid_loss"] == "y"
    assert axes["valid_energy_mae"] == "y2" and axes["valid_forces_mae"] == "y3"
    layout = plot.figure.layout
    assert "kcal/mol)" in layout.yaxis2.title.text and "kcal/mol/Å" in layout.yaxis3.title.text
    assert "standardised" in layout.yaxis.title.text and "loss" not in (layout.title.text or "")
