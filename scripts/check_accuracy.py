"""Fails (exit 1) when the intent accuracy in a `rasa test nlu` report is below a threshold."""
import json
import sys


def main(report_path: str, threshold: float) -> int:
    with open(report_path, encoding="utf-8") as handle:
        accuracy = json.load(handle)["accuracy"]
    verdict = "ok" if accuracy >= threshold else "BELOW THRESHOLD"
    print(f"held-out intent accuracy {accuracy:.4f} (threshold {threshold:.2f}): {verdict}")
    return 0 if accuracy >= threshold else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], float(sys.argv[2])))
