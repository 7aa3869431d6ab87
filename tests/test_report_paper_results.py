"""inductive_kd.paper_results, the paper's numbers the report prints beside ours."""

from inductive_kd import paper_results


def test_paper_values_match_paper_md():
  assert str(paper_results.mnist("mnist_cnn_to_mlp", "translate", "accuracy")) == "0.510 ± 0.0148"
  assert str(paper_results.mnist("mnist_mlp", "scale", "ece")) == "0.175 ± 0.0081"
  assert paper_results.mnist("mnist_cnn", "rotate", "accuracy") is None
  assert paper_results.MeanStd(0.5, 0.01).outside(0.521)
  assert not paper_results.MeanStd(0.5, 0.01).outside(0.519)
  assert paper_results.sva("cl", "LSTM", None, "ece").value == 0.028
  assert str(paper_results.sva("lm", "Transformer", None, "perplexity")) == "57.3–57.7"
