// A minimal line chart as inline SVG (axes with round-number ticks, one polyline per series, a
// legend), for the self-contained HTML report: no JavaScript, no external files.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace stride::server::loadgen {

struct ChartSeries {
  std::string name;
  std::string color;                              // CSS color
  std::vector<std::pair<double, double>> points;  // (x, y), in drawing order
};

struct ChartSpec {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<ChartSeries> series;
  int width = 560;
  int height = 300;
};

std::string SvgLineChart(const ChartSpec& spec);

// About `count` evenly spaced round tick values (1, 2 or 5 times a power of ten) covering
// [low, high]; high > low.
std::vector<double> NiceTicks(double low, double high, int count);

// Text safe inside HTML/SVG elements and attributes.
std::string EscapeXml(const std::string& text);

}  // namespace stride::server::loadgen
