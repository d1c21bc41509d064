#include "server/loadgen/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace stride::server::loadgen {

std::string EscapeXml(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::vector<double> NiceTicks(double low, double high, int count) {
  const double raw = (high - low) / std::max(1, count);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw) break;
  }
  std::vector<double> ticks;
  // Multiples of the step (not a running sum, which drifts).
  const double first = std::ceil(low / step - 1e-9);
  for (double k = first; k * step <= high + step * 1e-9; k += 1) ticks.push_back(k * step);
  return ticks;
}

std::string SvgLineChart(const ChartSpec& spec) {
  constexpr double kLeft = 64, kRight = 16, kTop = 28, kBottom = 44;
  const double plot_w = spec.width - kLeft - kRight;
  const double plot_h = spec.height - kTop - kBottom;
  double x_min = std::numeric_limits<double>::infinity(), x_max = -x_min;
  double y_max = -std::numeric_limits<double>::infinity();
  for (const ChartSeries& s : spec.series) {
    for (const auto& [x, y] : s.points) {
      x_min = std::min(x_min, x);
      x_max = std::max(x_max, x);
      y_max = std::max(y_max, y);
    }
  }
  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
      "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n"
      "<text x=\"%g\" y=\"16\" font-size=\"13\" font-weight=\"bold\">%s</text>\n",
      spec.width, spec.height, spec.width, spec.height, kLeft, EscapeXml(spec.title));
  if (!std::isfinite(x_min)) {
    return absl::StrCat(svg, absl::StrFormat("<text x=\"%g\" y=\"%g\">no data</text>\n</svg>\n",
                                             kLeft + 10, kTop + plot_h / 2));
  }
  x_min = std::min(x_min, 0.0);
  if (x_max <= x_min) x_max = x_min + 1;
  double y_min = 0;
  if (y_max <= y_min) y_max = 1;
  const std::vector<double> x_ticks = NiceTicks(x_min, x_max, 6);
  const std::vector<double> y_ticks = NiceTicks(y_min, y_max, 5);
  x_max = std::max(x_max, x_ticks.back());
  y_max = std::max(y_max, y_ticks.back());
  const auto px = [&](double x) { return kLeft + (x - x_min) / (x_max - x_min) * plot_w; };
  const auto py = [&](double y) { return kTop + plot_h - (y - y_min) / (y_max - y_min) * plot_h; };
  for (double t : x_ticks) {
    absl::StrAppendFormat(&svg,
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n",
                          px(t), kTop, px(t), kTop + plot_h, px(t), kTop + plot_h + 14, t);
  }
  for (double t : y_ticks) {
    absl::StrAppendFormat(&svg,
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                          kLeft, py(t), kLeft + plot_w, py(t), kLeft - 4, py(t) + 4, t);
  }
  absl::StrAppendFormat(&svg,
                        "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" "
                        "stroke=\"#444\"/>\n"
                        "<text x=\"%g\" y=\"%d\" text-anchor=\"middle\">%s</text>\n"
                        "<text transform=\"translate(14 %g) rotate(-90)\" "
                        "text-anchor=\"middle\">%s</text>\n",
                        kLeft, kTop, plot_w, plot_h, kLeft + plot_w / 2, spec.height - 8,
                        EscapeXml(spec.x_label), kTop + plot_h / 2, EscapeXml(spec.y_label));
  double legend_y = kTop + 14;
  for (const ChartSeries& s : spec.series) {
    std::string points;
    for (const auto& [x, y] : s.points) absl::StrAppendFormat(&points, "%.1f,%.1f ", px(x), py(y));
    absl::StrAppendFormat(&svg,
                          "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" "
                          "points=\"%s\"/>\n",
                          EscapeXml(s.color), points);
    if (spec.series.size() > 1) {
      absl::StrAppendFormat(
          &svg, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\" text-anchor=\"end\">%s</text>\n",
          kLeft + plot_w - 6, legend_y, EscapeXml(s.color), EscapeXml(s.name));
      legend_y += 14;
    }
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace stride::server::loadgen
